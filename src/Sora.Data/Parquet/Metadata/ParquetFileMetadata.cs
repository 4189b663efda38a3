namespace Sora.Data.Parquet.Metadata;

/// <summary>A file's footer: schema, row count, row groups and key/value metadata.</summary>
public sealed class ParquetFileMetadata
{
    public int Version { get; init; } = 1;

    public required ParquetSchema Schema { get; init; }

    public required long NumRows { get; init; }

    public required IReadOnlyList<RowGroupMetadata> RowGroups { get; init; }

    public IReadOnlyDictionary<string, string> KeyValues { get; init; } = new Dictionary<string, string>();

    public string? CreatedBy { get; init; }
}
