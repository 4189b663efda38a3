using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>
/// The Parquet schema of video dataset shards: id, caption, text_embedding (optional list&lt;float&gt;), kind,
/// channels, frames, height, width, fps, dtype, payload, source.
/// </summary>
public static class VideoDatasetSchema
{
    public const string Id = "id";
    public const string Caption = "caption";
    public const string TextEmbedding = "text_embedding";
    public const string Kind = "kind";
    public const string Channels = "channels";
    public const string Frames = "frames";
    public const string Height = "height";
    public const string Width = "width";
    public const string Fps = "fps";
    public const string DType = "dtype";
    public const string Payload = "payload";
    public const string Source = "source";

    /// <summary>The schema shards are written with.</summary>
    public static ParquetSchema Schema { get; } = new(
        ParquetField.String(Id),
        ParquetField.String(Caption),
        ParquetField.List(TextEmbedding, ParquetField.Float("element")),
        ParquetField.String(Kind),
        ParquetField.Int32(Channels),
        ParquetField.Int32(Frames),
        ParquetField.Int32(Height),
        ParquetField.Int32(Width),
        ParquetField.Float(Fps),
        ParquetField.String(DType),
        ParquetField.Binary(Payload),
        ParquetField.String(Source));

    /// <summary>
    /// Checks that a file's schema has the dataset's columns with the right physical types (other writers may mark
    /// fields optional, or add columns, which is fine); throws <see cref="ParquetFormatException"/> naming the file and column.
    /// </summary>
    public static void Check(ParquetSchema schema, string file)
    {
        ArgumentNullException.ThrowIfNull(schema);
        foreach (var expected in Schema.Columns)
        {
            if (!schema.TryGetColumn(expected.TopLevelName, out var actual) || actual is null)
            {
                throw ParquetFormatException.At(file, null, expected.TopLevelName, $"the video dataset column is missing; the file has: {string.Join(", ", schema.Fields.Select(f => f.Name))}");
            }

            if (actual.PhysicalType != expected.PhysicalType || actual.MaxRepetitionLevel != expected.MaxRepetitionLevel)
            {
                throw ParquetFormatException.At(file, null, actual.DottedPath, $"is {actual.PhysicalType}{(actual.MaxRepetitionLevel > 0 ? " list" : string.Empty)}, the video dataset needs {expected.PhysicalType}{(expected.MaxRepetitionLevel > 0 ? " list" : string.Empty)}");
            }
        }
    }
}
