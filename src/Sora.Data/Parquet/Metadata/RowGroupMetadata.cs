namespace Sora.Data.Parquet.Metadata;

/// <summary>One row group: its row count, sizes and one chunk per leaf column.</summary>
public sealed class RowGroupMetadata
{
    public required long NumRows { get; init; }

    /// <summary>Uncompressed bytes of all its column data.</summary>
    public required long TotalByteSize { get; init; }

    public required IReadOnlyList<ColumnChunkMetadata> Columns { get; init; }

    /// <summary>Compressed bytes of all its column chunks.</summary>
    public long TotalCompressedSize => Columns.Sum(c => c.TotalCompressedSize);
}
