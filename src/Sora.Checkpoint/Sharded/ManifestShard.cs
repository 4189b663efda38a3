namespace Sora.Checkpoint.Sharded;

/// <summary>One rank's shard object as the manifest records it: its name relative to the step folder, SHA-256, size, and that rank's generator states.</summary>
public sealed record ManifestShard(int Rank, string Object, string Sha256, long Size, IReadOnlyDictionary<string, byte[]> GeneratorStates);
