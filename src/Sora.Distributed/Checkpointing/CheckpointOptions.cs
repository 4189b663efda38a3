using Sora.Checkpoint.Stores;

namespace Sora.Distributed.Checkpointing;

/// <summary>How a training job checkpoints and resumes (from <c>sora train --checkpoint-every/--resume</c>).</summary>
/// <param name="Store">Where checkpoints go (a local directory by default).</param>
/// <param name="Every">Save the DiT stage after every this many steps (0: never).</param>
/// <param name="Resume">null: start fresh; "latest" or a step number.</param>
/// <param name="KeepLast">Retention: keep the newest this many (0: keep all).</param>
/// <param name="KeepEvery">Retention: and every checkpoint whose step is a multiple of this.</param>
public sealed record CheckpointOptions(ICheckpointStore Store, long Every, string? Resume = null, int KeepLast = 0, long KeepEvery = 0)
{
    /// <summary>The job's round (<c>sora train --round</c>): commits of an ended round are refused (0: unfenced).</summary>
    public long Round { get; init; }
}
