namespace Sora.Data.Dataset;

/// <summary>A finished shard: its file, rows, row groups and size.</summary>
public sealed record VideoShard(string Path, long Rows, int RowGroups, long Bytes);
