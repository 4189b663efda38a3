namespace Sora.Metrics.Job;

/// <summary>The job as the coordinator sees it: what <c>sora status</c> and <c>GET /api/status</c> show. Holds no secret.</summary>
public sealed record JobStatus(
    string Job,
    string State,
    long Round,
    int WorldSize,
    string Message,
    DateTimeOffset StartedAt,
    IReadOnlyList<NodeStatus> Nodes,
    IReadOnlyList<RankStatus> Ranks,
    IReadOnlyList<RestartRecord> Restarts,
    int RestartsLeft,
    CommittedCheckpoint? LastCheckpoint,
    string CheckpointStore);

/// <summary>One agent.</summary>
public sealed record NodeStatus(string Node, string Host, int ProcessesPerNode, bool Reachable, bool InRound, double HeartbeatAgeSeconds);

/// <summary>One rank of the current round.</summary>
public sealed record RankStatus(int Rank, string Node, int LocalRank, string State, string Stage, long Step, long TotalSteps, double HeartbeatAgeSeconds, double SecondsSinceOutput, double? Loss, double? StepSeconds, long ResidentBytes);

/// <summary>The job states.</summary>
public static class JobStates
{
    public const string Rendezvous = "rendezvous";
    public const string Running = "running";
    public const string Restarting = "restarting";
    public const string Stopping = "stopping";
    public const string Succeeded = "succeeded";
    public const string Stopped = "stopped";
    public const string Failed = "failed";
}

/// <summary>One restart of the job: the round that failed and why.</summary>
public sealed record RestartRecord(long Round, DateTimeOffset At, string Cause, string Kind);

/// <summary>The last committed checkpoint as the store's <c>latest</c> pointer names it, and the round that fenced it.</summary>
public sealed record CommittedCheckpoint(long Step, long Round, DateTimeOffset? CommittedAt)
{
    /// <summary>The training stage whose checkpoint it is: <c>vae</c> or <c>dit</c> (the job goes on from the furthest one).</summary>
    public string Stage { get; init; } = "dit";

    /// <summary>
    /// Whether the run's outputs are in the store (the last of them, <c>run/summary.json</c>, is published after the final
    /// checkpoint): a job whose final checkpoint is committed but whose outputs are not is not complete yet.
    /// </summary>
    public bool RunPublished { get; init; } = true;
}
