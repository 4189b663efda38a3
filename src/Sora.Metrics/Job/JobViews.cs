namespace Sora.Metrics.Job;

// What the coordinator's JSON API (/api/job, /api/ranks, /api/history, /api/checkpoints, /api/samples) returns: the
// dashboard's data, read from JobMetrics, the same state /metrics and `sora status` read. No secret in any of them.

/// <summary>What does not change while the job runs.</summary>
/// <param name="Job">The job's name.</param>
/// <param name="Run">This launch's id (the job and the coordinator's start time): the <c>run</c> label of job-level series.</param>
/// <param name="Model">The model preset or size trained.</param>
/// <param name="TotalSteps">The DiT stage's steps.</param>
/// <param name="Version">The software version.</param>
/// <param name="CheckpointStore">Where checkpoints are committed.</param>
public sealed record JobInfo(string Job, string Run, string Model, long TotalSteps, string Version, string CheckpointStore);

/// <summary>The job as a whole (<c>GET /api/job</c>).</summary>
public sealed record JobView(
    JobInfo Info,
    string State,
    string Message,
    long Round,
    int WorldSize,
    DateTimeOffset StartedAt,
    string Stage,
    long Step,
    long TotalSteps,
    double? Loss,
    double? HeldOutLoss,
    double SamplesPerSecond,
    double ModelFlopsPerSecond,
    double? Mfu,
    long StepsTotal,
    long SamplesTotal,
    int RestartsLeft,
    CommittedCheckpoint? LastCheckpoint,
    double StragglerRatio,
    int[] Stragglers,
    RoundView[] Rounds,
    RestartRecord[] Restarts,
    WorkerCount[] Workers);

/// <summary>Workers in one state.</summary>
public sealed record WorkerCount(string State, int Count);

/// <summary>One round of the job: when it ran, on how many ranks, its state (running, ending: its workers are being stopped, ended) and why it ended.</summary>
public sealed record RoundView(long Round, int WorldSize, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? EndCause)
{
    /// <summary>running, ending or ended.</summary>
    public string State { get; init; } = RoundStates.Running;
}

/// <summary>The states of a round in the job's timeline.</summary>
public static class RoundStates
{
    public const string Running = "running";
    public const string Ending = "ending";
    public const string Ended = "ended";
}

/// <summary>
/// One rank (<c>GET /api/ranks</c>). StepTimeRatio is its busy time per step (the step less exposed communication) over
/// the median of the other ranks' (1 when alone or unknown); Straggler says whether that ratio is at least the job's straggler ratio.
/// </summary>
public sealed record RankView(
    int Rank,
    string Node,
    int LocalRank,
    string State,
    string Stage,
    long Step,
    long TotalSteps,
    double HeartbeatAgeSeconds,
    long ResidentBytes,
    long DeviceBytes,
    double StepSeconds,
    double DataSeconds,
    double ComputeSeconds,
    double OptimizerSeconds,
    double CommunicationSeconds,
    double ModelFlopsPerSecond,
    double? Mfu,
    double StepTimeRatio,
    bool Straggler);

/// <summary>One point of the job's history (<c>GET /api/history</c>): a DiT or VAE step as rank 0 saw it.</summary>
public sealed record HistoryPoint(
    string Stage,
    long Step,
    double Time,
    double Loss,
    double? HeldOutLoss,
    double SamplesPerSecond,
    double? Mfu,
    double StepSeconds,
    double DataSeconds,
    double ComputeSeconds,
    double OptimizerSeconds,
    double CommunicationSeconds);

/// <summary>A checkpoint (<c>GET /api/checkpoints</c>).</summary>
/// <param name="Stage">The training stage it saved ("vae" or "dit").</param>
/// <param name="Step">Its step in that stage.</param>
/// <param name="Bytes">Its shards' bytes, summed over the ranks that reported them (0: not reported, e.g. committed before this coordinator started).</param>
/// <param name="SaveSeconds">The slowest rank's save time.</param>
/// <param name="CommittedAt">When it was committed (null: saved but not known to be committed).</param>
/// <param name="Store">Where it is.</param>
public sealed record CheckpointView(string Stage, long Step, long Bytes, double SaveSeconds, DateTimeOffset? CommittedAt, string Store);

/// <summary>A sample video training wrote (<c>GET /api/samples</c>); the video is at <see cref="Url"/>.</summary>
public sealed record SampleView(int Index, string Prompt, string Stage, long Step, DateTimeOffset At, long Bytes, string ContentType, string Url);

/// <summary>A sample video as rank 0's agent sends it to the coordinator.</summary>
/// <param name="Index">The prompt's index in the job's sampling prompts.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="Step">The DiT step the sample was made at.</param>
/// <param name="ContentType">"video/mp4".</param>
/// <param name="Data">The file's bytes.</param>
public sealed record SampleVideo(int Index, string Prompt, long Step, string ContentType, byte[] Data);
