namespace Sora.Checkpoint.Sharded;

/// <summary>
/// One rank's shard object as the manifest records it: its name relative to the step folder, digest, size and that
/// rank's generator states; <c>ChunkBytes</c> is the chunk size of a version 2 digest (<see cref="ShardDigest"/>), or
/// null for a version 1 whole-object SHA-256.
/// </summary>
public sealed record ManifestShard(int Rank, string Object, string Sha256, long Size, IReadOnlyDictionary<string, byte[]> GeneratorStates, int? ChunkBytes = null);
