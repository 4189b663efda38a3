namespace Sora.Data.Storage;

/// <summary>One shard as its storage lists it.</summary>
/// <param name="Name">The shard's file name (no folder or prefix): its id in the dataset.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Version">Changes whenever the shard is rewritten (size and modification time, or the blob's ETag).</param>
public sealed record ShardObject(string Name, long Length, string Version);
