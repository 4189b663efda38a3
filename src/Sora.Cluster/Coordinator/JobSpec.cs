using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>What the coordinator runs: the job and how to run it.</summary>
/// <param name="Name">The job's name.</param>
/// <param name="Yaml">The job file's text (sent to the agents).</param>
/// <param name="Batches">Every global batch size with its key: a round's world size must divide each.</param>
/// <param name="TotalSteps">The DiT stage's steps (for status).</param>
/// <param name="Fault">Failure handling.</param>
/// <param name="WorkerArguments">Arguments every worker gets (parallelism, checkpoints, timeout); "--resume latest" is added when a checkpoint exists.</param>
/// <param name="Key">The job token's key (agents prove they hold the token with it; it seals every session).</param>
/// <param name="Version">The software version agents must run.</param>
/// <param name="StoreHost">The c10d store's host as workers reach it.</param>
/// <param name="StorePort">Its port.</param>
public sealed record JobSpec(
    string Name,
    string Yaml,
    IReadOnlyList<(string Key, int Size)> Batches,
    long TotalSteps,
    FaultPolicy Fault,
    IReadOnlyList<string> WorkerArguments,
    JobKey Key,
    string Version,
    string StoreHost,
    int StorePort)
{
    /// <summary>The model trained, in words (a label of <c>sora_job_info</c>).</summary>
    public string Model { get; init; } = "";

    /// <summary>Busy time per step over the other ranks' median from which a rank is a straggler (<c>fault.straggler_ratio</c>).</summary>
    public double StragglerRatio { get; init; } = 1.5;

    /// <summary>
    /// The training stages whose progress is checkpointed (where a graceful stop loses nothing): a node's join ends a round
    /// only in one of them (see <see cref="RoundPolicy.ScaleUpBlocker"/>). Both stages checkpoint when <c>checkpoint.every</c>
    /// is above 0; none when it is 0.
    /// </summary>
    public IReadOnlySet<string> CheckpointedStages { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "vae", "dit" };

    /// <summary>
    /// Null (<c>sora launch</c>): every round resumes from the last committed checkpoint, and a job whose last checkpoint is
    /// its last step is complete. Set (<c>sora train --nproc-per-node</c>): the first round resumes as the user asked, from
    /// "latest", a step, or <see cref="StartFresh"/>, and runs even when that checkpoint is the last step (it writes the
    /// final weights it loaded); see <see cref="RoundResume"/>.
    /// </summary>
    public string? Resume { get; init; }

    /// <summary>The <see cref="Resume"/> of a launch that asked for no resume.</summary>
    public const string StartFresh = "none";
}
