using Sora.Distributed.Store;

namespace Sora.Distributed.Checkpointing;

/// <summary>How a training job checkpoints and resumes (from <c>sora train --checkpoint-every/--resume</c>, or an agent).</summary>
/// <param name="Store">The job's store: every stage's checkpoints, the stage outputs and the run's outputs (a local directory by default).</param>
/// <param name="Every">Save each stage after every this many steps (0: only its last step).</param>
/// <param name="Resume">null: start fresh; "latest" or a DiT step number (the VAE stage then resumes from its latest).</param>
/// <param name="KeepLast">Retention: keep the newest this many of each stage (0: keep all).</param>
/// <param name="KeepEvery">Retention: and every checkpoint whose step is a multiple of this.</param>
public sealed record CheckpointOptions(JobStore Store, long Every, string? Resume = null, int KeepLast = 0, long KeepEvery = 0)
{
    /// <summary>The job's round (<c>sora train --round</c>): commits of an ended round are refused (0: unfenced).</summary>
    public long Round { get; init; }
}
