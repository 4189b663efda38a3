using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Agent;

/// <summary>What a node agent needs: who it is, what it may start, and how to start a worker.</summary>
/// <param name="Node">The node's name in the job (unique).</param>
/// <param name="Host">The address this node's workers bind and announce for Gloo.</param>
/// <param name="ProcessesPerNode">Workers per round (one per device).</param>
/// <param name="Threads">CPU threads split between the workers.</param>
/// <param name="Key">The job token's key (it proves the registration and seals the session).</param>
/// <param name="Version">This software's version.</param>
/// <param name="CoordinatorPath">The coordinator actor's path, e.g. <c>akka.tcp://sora@10.0.0.1:29400/user/coordinator</c>.</param>
/// <param name="WorkerCommand">The program and leading arguments that run <c>sora</c> (the agent appends <c>train …</c>).</param>
/// <param name="WorkDirectory">Where the agent writes the job file it was sent.</param>
/// <param name="CoordinatorTimeout">How long workers keep running while the coordinator is unreachable (<c>sora agent --coordinator-timeout</c>); null: the job's <c>fault.coordinator_timeout</c>, which the coordinator sends when it accepts the agent.</param>
/// <param name="StopGrace">After SIGTERM, how long before SIGKILL.</param>
public sealed record AgentOptions(
    string Node,
    string Host,
    int ProcessesPerNode,
    int Threads,
    JobKey Key,
    string Version,
    string CoordinatorPath,
    IReadOnlyList<string> WorkerCommand,
    string WorkDirectory,
    TimeSpan? CoordinatorTimeout,
    TimeSpan StopGrace)
{
    /// <summary>
    /// Sees every <c>@sora</c> message of this node's workers as (rank, message), called on the worker's actor, so it must
    /// only hand the message on: a standalone launch (<c>sora train --nproc-per-node</c>) shows rank 0's progress with it.
    /// </summary>
    public Action<int, WorkerMessage>? Output { get; init; }
}

/// <summary>How an agent's work ended: the job's result, or a refusal; the hosting process exits with its exit code.</summary>
public sealed class AgentOutcome
{
    private readonly TaskCompletionSource<(int ExitCode, string Message)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<(int ExitCode, string Message)> Task => _done.Task;

    public bool IsCompleted => _done.Task.IsCompleted;

    public void Complete(int exitCode, string message) => _done.TrySetResult((exitCode, message));
}
