using System.Diagnostics;
using Sora.Cluster.Tests.Harness;
using Sora.Netns;
using Xunit.Abstractions;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// The control plane against real failures: a coordinator and agents in separate network namespaces, each agent
/// starting real `sora train` workers (FSDP over Gloo between hosts), and the faults issue 13 names: a killed worker,
/// a killed node, a host cut off the network, a frozen worker, a killed coordinator, and a spent restart budget.
/// One class, so its clusters run one after another (the machine has two cores).
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(4);

    [NetnsTheory]
    [InlineData(11)]
    [InlineData(29)]
    public async Task A_killed_worker_is_replaced_and_the_job_ends_with_the_weights_of_an_uninterrupted_run(int seed)
    {
        var reference = await ReferenceWeights.Value;
        var random = new Random(seed);
        var rank = random.Next(4);
        var afterStep = 4 * random.Next(1, 3);
        await using var job = await ClusterJob.StartAsync(hosts: 3, nodes: "2", workersPerHost: 2);
        await job.WaitForCheckpointAsync(afterStep, JobLimit);
        var pid = job.WorkerPid(rank);
        Process.GetProcessById(pid).Kill();
        output.WriteLine($"killed rank {rank} (pid {pid}) after checkpoint step {afterStep}");

        var log = await job.EndsWithAsync(0, JobLimit, output);
        log.Should().Contain($"rank {rank} on node").And.Contain("signal 9 (SIGKILL)").And.Contain("round 2: 4 ranks on 2 node(s)");
        File.ReadAllBytes(job.FinalWeights).Should().Equal(reference, "a restart from the last checkpoint must end exactly where the uninterrupted run ends");
    }

    [NetnsFact]
    public async Task A_lost_node_under_an_elastic_range_leaves_the_job_on_the_nodes_left()
    {
        await using var job = await ClusterJob.StartAsync(hosts: 3, nodes: "1:2", workersPerHost: 1);
        await job.WaitForCheckpointAsync(4, JobLimit);
        job.Agents[1].KillTree(); // host 2's agent and its workers: the whole node

        // Round numbers depend on whether host1 joined before the first round formed (a slow join adds a scale-up round).
        (await job.EndsWithAsync(0, JobLimit, output)).Should().Contain("node 'host2'").And.MatchRegex(@"round \d+: 1 ranks on 1 node\(s\) \(host1×1\), resuming from checkpoint step");
    }

    [NetnsFact]
    public async Task A_host_cut_off_the_network_is_detected_and_the_job_restarts_without_it()
    {
        await using var job = await ClusterJob.StartAsync(hosts: 3, nodes: "1:2", workersPerHost: 1);
        await job.WaitForCheckpointAsync(4, JobLimit);
        var clock = Stopwatch.StartNew();
        job.Cluster.Cut(2);
        await job.Coordinator!.WaitForLineAsync(l => l.Contains("ending (node-lost)", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        output.WriteLine($"partition detected after {clock.Elapsed.TotalSeconds:F1} s");

        // The side without the coordinator stops its workers by itself.
        await job.Agents[1].WaitForLineAsync(AgentStoppedItsWorkers, TimeSpan.FromSeconds(60));
        // A fresh-clone CI run saw host1 join after the first round formed, so the job's rounds were 1, 2 (scale-up), 3.
        (await job.EndsWithAsync(0, JobLimit, output)).Should().MatchRegex(@"round \d+: 1 ranks on 1 node\(s\) \(host1×1\)");
    }

    [NetnsFact]
    public async Task A_frozen_worker_is_caught_by_the_watchdog_and_the_round_restarts()
    {
        await using var job = await ClusterJob.StartAsync(hosts: 2, nodes: "1", workersPerHost: 2, hangTimeout: 8);
        await job.WaitForCheckpointAsync(4, JobLimit);
        Signal(job.WorkerPid(1), "STOP");

        (await job.EndsWithAsync(0, JobLimit, output)).Should().Contain("rank 1 on node 'host1' is hung: no progress for").And.Contain("(its process is stopped: SIGSTOP)").And.Contain("round 2: 2 ranks on 1 node(s)");
    }

    [NetnsFact]
    public async Task A_coordinator_killed_and_started_again_continues_from_the_last_committed_checkpoint()
    {
        // Enough steps that the workers cannot finish while the coordinator is gone (they train on until its timeout, 1 s
        // here): a fresh-clone run on a quiet machine trained all of 100 steps in the default 5 s and the job was complete.
        await using var job = await ClusterJob.StartAsync(hosts: 2, nodes: "1", workersPerHost: 2, ditSteps: 300, coordinatorTimeout: 1);
        await job.WaitForCheckpointAsync(4, JobLimit);
        var first = job.Coordinator!;
        first.Kill();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // No orphaned training: the agent stops its workers once the coordinator is gone.
        await job.Agents[0].WaitForLineAsync(AgentStoppedItsWorkers, TimeSpan.FromSeconds(60));
        var committed = await job.LatestStepAsync();
        committed.Should().BeGreaterThan(0);
        job.StartCoordinator("1");
        (await job.EndsWithAsync(0, JobLimit, output)).Should().Contain($"last committed checkpoint is step {committed}").And.Contain("resuming from checkpoint step");
        (await job.Agents[0].WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, "the agent rejoined the new coordinator and ended with the job");
    }

    [NetnsFact]
    public async Task A_spent_restart_budget_fails_the_job_naming_the_rank_and_the_cause()
    {
        await using var job = await ClusterJob.StartAsync(hosts: 2, nodes: "1", workersPerHost: 2, maxRestarts: 0);
        await job.WaitForCheckpointAsync(4, JobLimit);
        Process.GetProcessById(job.WorkerPid(1)).Kill();

        (await job.EndsWithAsync(1, JobLimit, output)).Should().Contain("the restart budget (0) is spent").And.Contain("rank 1 on node 'host1' failed: signal 9 (SIGKILL)");
    }

    private static bool AgentStoppedItsWorkers(string line) =>
        line.Contains("stopping this node's workers", StringComparison.Ordinal) || line.Contains("left the cluster", StringComparison.Ordinal);

    /// <summary>Waits for the coordinator to exit with <paramref name="exitCode"/>; returns its output (also written to the test's log).</summary>

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The final DiT weights of the same job run without a fault (computed once, on the same topology).</summary>
    private static readonly Lazy<Task<byte[]>> ReferenceWeights = new(async () =>
    {
        await using var job = await ClusterJob.StartAsync(hosts: 3, nodes: "2", workersPerHost: 2);
        var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
        if (code != 0)
        {
            throw new InvalidOperationException($"the uninterrupted reference run failed ({code}):\n{job.Coordinator.Tail(60)}");
        }

        return File.ReadAllBytes(job.FinalWeights);
    });
}
