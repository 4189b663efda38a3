namespace Sora.Data.Dataset;

/// <summary>What one Parquet shard holds: rows, row groups (and their smallest/largest row count), size, codecs (lower case: none, snappy, gzip, zstd, ...), writer.</summary>
public sealed record ShardSummary(
    string Path,
    long Rows,
    int RowGroups,
    long MinRowsPerGroup,
    long MaxRowsPerGroup,
    long Bytes,
    IReadOnlyList<string> Codecs,
    string? CreatedBy);
