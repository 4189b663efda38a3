using Parquet.Schema;
using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>
/// The Parquet schema of video dataset shards: id, caption, text_embedding (optional list&lt;float&gt;), kind,
/// channels, frames, height, width, fps, dtype, payload, source. The same physical layout as the shards written
/// before Parquet.Net (required columns, a 3-level list with required elements), so existing datasets still read.
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
        new DataField<string>(Id, false),
        new DataField<string>(Caption, false),
        new ListField(TextEmbedding, new DataField<float>("element", false)),
        new DataField<string>(Kind, false),
        new DataField<int>(Channels, false),
        new DataField<int>(Frames, false),
        new DataField<int>(Height, false),
        new DataField<int>(Width, false),
        new DataField<float>(Fps, false),
        new DataField<string>(DType, false),
        new DataField<byte[]>(Payload, false),
        new DataField<string>(Source, false));

    /// <summary>The leaf field of each top-level column, by name.</summary>
    internal static IReadOnlyDictionary<string, DataField> Leaves { get; } = Schema.DataFields.ToDictionary(ParquetFile.TopLevelName, StringComparer.Ordinal);

    /// <summary>
    /// Checks that a file's schema has the dataset's columns with the right types (other writers may mark fields
    /// optional, or add columns, which is fine); throws <see cref="ParquetFormatException"/> naming the file and column.
    /// </summary>
    public static void Check(ParquetFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        foreach (var (name, expected) in Leaves)
        {
            var actual = file.FindField(name)
                ?? throw ParquetFormatException.At(file.Name, null, name, $"the video dataset column is missing; the file has: {string.Join(", ", file.Schema.Fields.Select(f => f.Name))}");
            if (actual.ClrType != expected.ClrType || actual.MaxRepetitionLevel != expected.MaxRepetitionLevel)
            {
                throw ParquetFormatException.At(file.Name, null, name, $"is {Describe(actual)}, the video dataset needs {Describe(expected)}");
            }
        }
    }

    private static string Describe(DataField field) => field.ClrType.Name + (field.MaxRepetitionLevel > 0 ? " list" : string.Empty);
}
