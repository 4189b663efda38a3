using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>One row group's decoded columns, turned into records row by row (checking the values a dataset relies on).</summary>
internal sealed class VideoRowGroup(string file, int rowGroup, int count)
{
    private readonly Dictionary<string, ColumnValues> columns = new(StringComparer.Ordinal);

    public int Count => count;

    public void Add(ColumnValues column) => columns[column.Column] = column;

    public VideoSampleRecord Record(int row, VideoColumns requested)
    {
        var record = new VideoSampleRecord
        {
            Id = Text(VideoDatasetSchema.Id, row) ?? string.Empty,
            Caption = Text(VideoDatasetSchema.Caption, row) ?? string.Empty,
            TextEmbedding = Embedding(row),
            Kind = Kind(row),
            Channels = Int(VideoDatasetSchema.Channels, row),
            Frames = Int(VideoDatasetSchema.Frames, row),
            Height = Int(VideoDatasetSchema.Height, row),
            Width = Int(VideoDatasetSchema.Width, row),
            Fps = Value<float>(VideoDatasetSchema.Fps, row),
            DType = Text(VideoDatasetSchema.DType, row) ?? VideoDType.UInt8,
            Payload = columns.ContainsKey(VideoDatasetSchema.Payload) ? Value<ReadOnlyMemory<byte>>(VideoDatasetSchema.Payload, row).ToArray() : [],
            Source = Text(VideoDatasetSchema.Source, row) ?? string.Empty,
        };

        if (requested.HasFlag(VideoColumns.DType) && !VideoDType.IsKnown(record.DType))
        {
            throw Fail(VideoDatasetSchema.DType, row, $"'{record.DType}' is not one of {string.Join(", ", VideoDType.All)}");
        }

        if (requested.HasFlag(VideoColumns.Payload | VideoColumns.Shape | VideoColumns.DType) && record.Payload.LongLength != record.ExpectedPayloadBytes)
        {
            throw Fail(VideoDatasetSchema.Payload, row, $"{record.Payload.Length} bytes, but ({record.Channels}, {record.Frames}, {record.Height}, {record.Width}) {record.DType} needs {record.ExpectedPayloadBytes}");
        }

        return record;
    }

    private T Value<T>(string name, int row)
    {
        if (!columns.TryGetValue(name, out var column))
        {
            return default!;
        }

        var range = column.Rows[row];
        return range.IsNull || range.Count == 0 ? throw Fail(name, row, "is null") : column.As<T>(file, rowGroup)[range.Start];
    }

    private string? Text(string name, int row) => columns.ContainsKey(name) ? Value<string>(name, row) : null;

    private int Int(string name, int row)
    {
        if (!columns.ContainsKey(name))
        {
            return 0;
        }

        var value = Value<int>(name, row);
        return value > 0 ? value : throw Fail(name, row, $"{value} is not a positive size");
    }

    private float[]? Embedding(int row)
    {
        if (!columns.TryGetValue(VideoDatasetSchema.TextEmbedding, out var column))
        {
            return null;
        }

        var range = column.Rows[row];
        return range.IsNull ? null : column.As<float>(file, rowGroup).AsSpan(range.Start, range.Count).ToArray();
    }

    private VideoSampleKind Kind(int row) => Text(VideoDatasetSchema.Kind, row) switch
    {
        null or "pixels" => VideoSampleKind.Pixels,
        "latents" => VideoSampleKind.Latents,
        var other => throw Fail(VideoDatasetSchema.Kind, row, $"'{other}' is neither 'pixels' nor 'latents'"),
    };

    private ParquetFormatException Fail(string column, int row, string problem) =>
        ParquetFormatException.At(file, rowGroup, column, $"row {row}: {problem}");
}
