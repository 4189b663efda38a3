using System.Diagnostics;

namespace Sora.Netns;

/// <summary>The faults a random-fault run injects into a <see cref="NetnsJob"/> started with <c>sora launch</c>.</summary>
internal enum JobFault
{
    /// <summary>One worker SIGKILLed.</summary>
    WorkerKill,

    /// <summary>Every worker of one node SIGKILLed.</summary>
    NodeWorkersKill,

    /// <summary>One worker SIGSTOPped (alive, silent: the hang watchdog's case).</summary>
    WorkerStop,

    /// <summary>The launch process (the coordinator and its node's agent) SIGKILLed and started again.</summary>
    LaunchKill,
}

/// <summary>
/// Injects <see cref="JobFault"/>s into a job launched on <see cref="LaunchHost"/> (<c>sora launch</c>: coordinator and that
/// node's agent) with agents on other hosts, as the random-fault test (ChaosTests, <c>cluster/chaos.sh</c>) and
/// <c>sora bench goodput</c> do. A fault that needs a worker when none runs (a rendezvous, a restart) lands on the launch process.
/// </summary>
/// <param name="job">The job.</param>
/// <param name="worldSize">Its ranks.</param>
/// <param name="launch">Starts the launch process again (on <see cref="LaunchHost"/>) after a <see cref="JobFault.LaunchKill"/>.</param>
internal sealed class JobFaults(NetnsJob job, int worldSize, Func<NetnsJob, HostProcess> launch)
{
    /// <summary>The host the launch process runs on.</summary>
    public const int LaunchHost = 1;

    /// <summary>Waits until the job is at <paramref name="stage"/> step <paramref name="step"/> or past it (or has ended), asking the coordinator's API.</summary>
    public async Task WaitForProgressAsync(string stage, long step, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await job.ProgressAsync().ConfigureAwait(false) is { } at
                && ((at.Stage == "dit" && stage == "vae") || (at.Stage == stage && at.Step >= step) || at.State is "succeeded" or "failed" or "stopped"))
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"the job never reached {stage} step {step} within {timeout}:\n{job.Coordinator?.Tail(30)}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Injects <paramref name="fault"/> and says what it did.</summary>
    public async Task<string> InjectAsync(JobFault fault, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var running = job.RunningWorkers(worldSize);
        switch (fault)
        {
            case JobFault.WorkerKill when running.Count > 0:
            {
                var (rank, pid) = running[random.Next(running.Count)];
                Signal(pid, "KILL");
                return $"SIGKILL rank {rank}";
            }

            case JobFault.NodeWorkersKill when running.Count > 0:
            {
                // A later round may place ranks on other nodes: the node is the one a worker process runs on.
                var host = job.HostOf(running[random.Next(running.Count)].Pid);
                var killed = running.Where(w => job.HostOf(w.Pid) == host).ToList();
                killed.ForEach(w => Signal(w.Pid, "KILL"));
                return $"SIGKILL every worker of host {host} (rank(s) {string.Join(", ", killed.Select(w => w.Rank))})";
            }

            case JobFault.WorkerStop when running.Count > 0:
            {
                var (rank, pid) = running[random.Next(running.Count)];
                Signal(pid, "STOP");
                return $"SIGSTOP rank {rank}";
            }

            case JobFault.LaunchKill:
            {
                var current = job.Coordinator ?? throw new InvalidOperationException("no launch process runs");
                current.Kill();
                await current.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(random.NextDouble() * 3)).ConfigureAwait(false);
                launch(job);
                return "SIGKILL the launch process (the coordinator and its node's agent), then start it again";
            }

            default:
                // No worker runs right now (a rendezvous, a restart): the fault lands there, on the launch process.
                return await InjectAsync(JobFault.LaunchKill, random).ConfigureAwait(false);
        }
    }

    private static void Signal(int pid, string signal) => Sora.Tools.ToolProcess.Run("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
}
