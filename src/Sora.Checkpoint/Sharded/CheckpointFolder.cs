namespace Sora.Checkpoint.Sharded;

/// <summary>One step folder in a store: whether its manifest exists (the checkpoint is complete), and how many objects and bytes it holds.</summary>
public sealed record CheckpointFolder(long Step, bool HasManifest, int Objects, long Bytes);
