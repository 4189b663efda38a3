using Sora.Cluster.Workers;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Protocol;

// Messages between the coordinator and the agents (over Akka remoting). Collections are arrays: the serializers cannot
// rebuild the read-only list types C# collection expressions make for IReadOnlyList<T>. They carry no secret. Only
// RegisterAgent, AgentAccepted and AgentRejected travel as they are; every other message of a session travels sealed
// (SealedMessage: HMAC-SHA256 under the session's key, with a sequence number), see docs/control-plane.md#trust.

/// <summary>An agent asks to take part in the job (the agent is the message's sender: the coordinator answers there).</summary>
/// <param name="Node">The node's name (unique in the job; the host name by default).</param>
/// <param name="Host">The address its workers bind and announce for Gloo.</param>
/// <param name="ProcessesPerNode">Workers it starts (one per device).</param>
/// <param name="Threads">CPU threads it splits between its workers.</param>
/// <param name="Version">The software version the agent runs.</param>
/// <param name="Nonce">A fresh random value for this registration (the session's keys depend on it).</param>
/// <param name="Proof">HMAC under the job key over every other field (JobKey.RegistrationProof): the agent holds the token.</param>
public sealed record RegisterAgent(string Node, string Host, int ProcessesPerNode, int Threads, string Version, string Nonce, string Proof);

/// <summary>
/// The coordinator took the registration of <paramref name="AgentNonce"/> in and opened session <paramref name="Session"/>
/// for it; the agent is in the job once its first sealed message of that session arrives (a replayed registration
/// never gets that far: it cannot seal without the token).
/// </summary>
/// <param name="Node">The agent's node.</param>
/// <param name="JobName">The job.</param>
/// <param name="AgentNonce">The registration's nonce.</param>
/// <param name="Session">The session's id (the coordinator's nonce).</param>
/// <param name="CoordinatorTimeoutSeconds">The job's <c>fault.coordinator_timeout</c>: what the agent uses unless its own option says otherwise.</param>
/// <param name="Proof">The coordinator's proof over every other field under the session's coordinator-to-agent key: it holds the token too.</param>
public sealed record AgentAccepted(string Node, string JobName, string AgentNonce, string Session, double CoordinatorTimeoutSeconds, string Proof)
{
    /// <summary>The fields the proof covers, in order.</summary>
    public string[] ProvenFields() =>
        ["accepted", Node, JobName, AgentNonce, Session, CoordinatorTimeoutSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)];
}

/// <summary>The coordinator refused the agent (wrong token or version, a name taken, a bad process count): the agent exits with the reason unless it may retry.</summary>
/// <param name="Node">The agent's node.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Retryable">The agent may try again (its node name is still held by a lost agent). False by default, so that
/// a serializer that leaves default values out reads it back unchanged.</param>
public sealed record AgentRejected(string Node, string Reason, bool Retryable = false);

/// <summary>Start this node's workers for one round, once the node passed its checks (<see cref="RoundRefused"/> otherwise).</summary>
/// <param name="Round">The round number (fences checkpoint commits; prefixes the c10d store keys).</param>
/// <param name="Workers">This node's ranks.</param>
/// <param name="WorldSize">Ranks in the round.</param>
/// <param name="StoreHost">The c10d TCPStore's host (the coordinator).</param>
/// <param name="StorePort">Its port.</param>
/// <param name="JobYaml">The job file's text (the agent's node may not have the file).</param>
/// <param name="JobName">The job's name (the file name agents write it under).</param>
/// <param name="WorkerArguments">Arguments every worker gets after its own (checkpoint options, parallelism, resume).</param>
/// <param name="Marker">When the job's store is a directory: the round's marker the node must see there (the directory is shared); null for blob stores.</param>
public sealed record StartRound(long Round, RankAssignment[] Workers, int WorldSize, string StoreHost, int StorePort, string JobYaml, string JobName, string[] WorkerArguments, StoreMarker? Marker);

/// <summary>The file the coordinator wrote into the job's store directory when it fenced a round (<c>&lt;store&gt;/control/round-N.nonce</c>) and the nonce in it.</summary>
public sealed record StoreMarker(string Path, string Nonce);

/// <summary>
/// A node started none of its workers for a round: a check before the start failed (the store's marker is missing or
/// different, the job's data is not on the node, the job file does not read). It would fail the same way again, so the
/// coordinator ends the job with <paramref name="Reason"/>.
/// </summary>
public sealed record RoundRefused(string Node, long Round, string Reason);

/// <summary>One worker of a round: its global and local rank.</summary>
public sealed record RankAssignment(int Rank, int LocalRank);

/// <summary>End the round on this node. With <paramref name="Checkpoint"/>, workers agree on a step, checkpoint it and exit; otherwise they are terminated (SIGTERM, then SIGKILL after the grace period).</summary>
public sealed record StopRound(long Round, string Reason, bool Checkpoint);

/// <summary>The job is over: agents stop what still runs and exit with <paramref name="Success"/>.</summary>
public sealed record JobEnded(bool Success, string Message);

/// <summary>An agent's periodic report (about 1 Hz): its workers' states and progress.</summary>
public sealed record AgentHeartbeat(string Node, long Round, WorkerReport[] Workers);

/// <summary>One worker as its agent sees it.</summary>
/// <param name="Rank">Global rank.</param>
/// <param name="Pid">Process id (0 before it started).</param>
/// <param name="State">running, exited, stopped (SIGSTOP) or starting.</param>
/// <param name="Stage">The training stage it reports (vae, dit) or "".</param>
/// <param name="Step">Its last reported step of that stage.</param>
/// <param name="TotalSteps">That stage's steps.</param>
/// <param name="SecondsSinceOutput">Seconds since it last reported anything (a status line or a step).</param>
/// <param name="Loss">Its last reported loss.</param>
/// <param name="StepSeconds">Its mean step time so far.</param>
/// <param name="ResidentBytes">Its resident memory.</param>
public sealed record WorkerReport(int Rank, int Pid, string State, string Stage, long Step, long TotalSteps, double SecondsSinceOutput, double? Loss, double? StepSeconds, long ResidentBytes)
{
    /// <summary>What the worker measured (its latest metrics line), or null before its first step.</summary>
    public RankMetrics? Metrics { get; init; }
}

/// <summary>Rank 0 wrote a sample video: its agent sends it to the coordinator, which shows the latest per prompt on the dashboard.</summary>
public sealed record SampleVideoWritten(string Node, long Round, SampleVideo Video);

/// <summary>A worker's process ended (sent as soon as the agent sees it).</summary>
/// <param name="Node">The agent's node.</param>
/// <param name="Round">The round it belonged to.</param>
/// <param name="Rank">Its global rank.</param>
/// <param name="ExitCode">Exit code (128 + signal when killed by a signal).</param>
/// <param name="Requested">Whether the agent had asked it to stop (a stop or an ended round).</param>
/// <param name="LogTail">The last lines of its output.</param>
/// <param name="LogFile">Where its whole output is, on the agent's node.</param>
public sealed record WorkerExited(string Node, long Round, int Rank, int ExitCode, bool Requested, string LogTail, string LogFile)
{
    /// <summary>How its job stopped when it stopped on request (the stage, step and whether that step's checkpoint was committed).</summary>
    public WorkerStopped? Stopped { get; init; }

    /// <summary>The worker's own account of its failure (the error it reported before it exited), or null.</summary>
    public string? Error { get; init; }

    /// <summary>"exit code 1" or "signal 9 (SIGKILL)".</summary>
    public string How => ExitStatus.Describe(ExitCode);
}
