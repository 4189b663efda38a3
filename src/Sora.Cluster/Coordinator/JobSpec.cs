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

    /// <summary>The training stages whose progress is checkpointed (where a graceful stop loses nothing): a node's join ends a round only in one of them (see <see cref="RoundPolicy.ScaleUpBlocker"/>).</summary>
    public IReadOnlySet<string> CheckpointedStages { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "dit" };
}
