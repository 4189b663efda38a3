namespace Sora.Data.Loading;

/// <summary>One shard of a dataset: its id (a file name or path), how many rows it holds, and an optional version.</summary>
/// <param name="Id">Names the shard in plans and errors; unique within a dataset.</param>
/// <param name="Rows">Rows (samples) in the shard, >= 0.</param>
/// <param name="Version">A content version (checksum, ETag) that changes when the shard's rows change; null when unknown.</param>
public sealed record ShardInfo(string Id, long Rows, string? Version = null);
