using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Cluster.Tests.Harness;
using Sora.Netns;
using Xunit.Abstractions;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// Issue 23's proof: hosts that share nothing but the store (each its own disk; Azurite on host 0 is the job's store)
/// train a job with a generated Parquet dataset, and end with the same bytes as the same job at the same world size
/// on one host, with no fault and through a worker killed in the VAE stage, the coordinator killed and started again,
/// a whole host killed and replaced by one with an empty disk, and a worker killed in the DiT stage. After each fault
/// the job resumes from the last checkpoint of the stage it was in.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed partial class PrivateDiskRecoveryTests(ITestOutputHelper output)
{
    private const int CheckpointEvery = 2;
    // Room for every fault: the job must still be training when each lands (a quiet machine trains 15+ steps a second).
    private const int DitSteps = 150;
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(8);

    [NetnsFact]
    public async Task Two_hosts_with_private_disks_end_with_the_weights_of_the_same_job_on_one_host()
    {
        var reference = await ReferenceWeights.Value;
        await using var job = await Start(hosts: 3, nodes: "2", workersPerHost: 1);

        var log = await job.EndsWithAsync(0, JobLimit, output);

        (await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject)).Should().Equal(reference, "2 hosts × 1 worker train what 1 host × 2 workers does");
        log.Should().Contain("generating the dataset").And.Contain($"{job.Store}/data/", "the coordinator wrote the generated dataset into the store, where both hosts read it");
        foreach (var host in new[] { 1, 2 })
        {
            Directory.Exists(job.Cluster.PrivatePath(host, Path.Combine(job.Directory, "data"))).Should().BeFalse($"host {host} read the dataset from the store, not its disk");
        }

        // A job that ends normally leaves the cluster gracefully: no Akka remoting ERROR (an EndpointDisassociated stack
        // trace) in the coordinator's log or either agent's, which a user would read as something wrong (issue 24 §6).
        foreach (var agent in job.Agents)
        {
            (await agent.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, $"the agent on host {agent.Host} leaves when the job ends");
        }

        foreach (var process in job.Agents.Prepend(job.Coordinator!))
        {
            process.Output.Should().NotContain("[ERROR]", $"{process} ended normally").And.NotContain("Disassociated", $"{process} left the cluster gracefully");
        }
    }

    [NetnsFact]
    public async Task Faults_in_every_stage_and_of_every_process_resume_from_the_stages_last_checkpoint_and_end_with_the_same_weights()
    {
        var reference = await ReferenceWeights.Value;
        await using var job = await Start(hosts: 3, nodes: "2", workersPerHost: 1);

        // A worker killed during the VAE stage.
        await WaitForStageCheckpointAsync(job, "vae", CheckpointEvery);
        Kill(job.WorkerPid(1), "rank 1 in the VAE stage");
        await job.Coordinator!.WaitForLineAsync(l => l.Contains("round 2: training:", StringComparison.Ordinal), JobLimit);

        // The coordinator killed and started again (the agents stop their workers meanwhile, and rejoin it).
        await job.WaitForCheckpointAsync(4, JobLimit);
        var first = job.Coordinator!;
        first.Kill();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine("killed the coordinator");
        await WaitForNoWorkerAsync(job, TimeSpan.FromSeconds(60));
        job.StartCoordinator("2");
        await job.Coordinator!.WaitForLineAsync(l => l.Contains(": training:", StringComparison.Ordinal), JobLimit);

        // Host 2 killed (its agent and worker) and replaced by a host with an empty disk.
        await job.WaitForCheckpointAsync(12, JobLimit);
        job.Agents[1].KillTree();
        // (Its contents: the directory itself is what the host has mounted.)
        var disk = new DirectoryInfo(job.Cluster.PrivatePath(2, job.Directory));
        foreach (var entry in disk.EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        disk.EnumerateFileSystemInfos().Should().BeEmpty();
        output.WriteLine("killed host 2 and emptied its disk");
        var replacement = job.StartAgent(2, 1);

        // A worker killed during the DiT stage.
        await job.WaitForCheckpointAsync(20, JobLimit);
        await replacement.WaitForLineAsync(l => l.Contains("started rank(s)", StringComparison.Ordinal), JobLimit);
        Kill(job.WorkerPid(0), "rank 0 in the DiT stage");

        var log = await job.EndsWithAsync(0, JobLimit, output);
        (await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject)).Should().Equal(reference, "every fault resumed from a checkpoint of the same job");
        var all = string.Join('\n', new[] { first.Output, log });
        var redone = Redone(all);
        output.WriteLine(string.Join('\n', redone.Select(r => $"{r.Stage}: reached {r.Reached}, resumed from {r.Resumed}")));
        redone.Should().Contain(r => r.Stage == "vae" && r.Resumed > 0, "the VAE-stage fault resumed from a VAE checkpoint, not from scratch");
        // At most the interval, plus the steps trained while the interval's checkpoint was still being written (saves are
        // asynchronous: a fault during an upload resumes from the checkpoint before it).
        redone.Should().OnlyContain(r => r.Reached - r.Resumed <= 2 * CheckpointEvery, "at most one checkpoint interval, and one in flight, is trained again");
    }

    [NetnsFact]
    public async Task A_directory_store_the_hosts_do_not_share_is_refused_naming_the_node_the_path_and_the_fix_before_any_worker_starts()
    {
        await using var job = await ClusterJob.CreateAsync(hosts: 3, privateDisks: true, directoryStore: true);
        job.StartCoordinator("2");
        job.StartAgent(1, 1);
        job.StartAgent(2, 1);

        var log = await job.EndsWithAsync(1, JobLimit, output);

        log.Should().MatchRegex(@"node 'host[12]'").And.Contain(Path.Combine(job.Store, "control")).And.Contain("az://");
        foreach (var agent in job.Agents)
        {
            agent.Output.Should().NotContain("started rank(s)", "the refusal comes before any worker starts");
        }

        job.RunningWorkers(2).Should().BeEmpty();
    }

    /// <summary>The coordinator's events: each ending round's stage and step, and the checkpoint step the next round resumed from.</summary>
    private static List<(string Stage, long Reached, long Resumed)> Redone(string log)
    {
        var endings = Ending().Matches(log).Select(m => (Round: long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Stage: m.Groups[2].Value, Step: long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))).ToList();
        var resumes = Resuming().Matches(log).ToDictionary(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return [.. endings.Where(e => resumes.ContainsKey(e.Round + 1)).Select(e => (e.Stage, e.Step, resumes[e.Round + 1]))];
    }

    [GeneratedRegex(@"round (\d+) ending \([^)]*\) at (vae|dit) step (\d+)")]
    private static partial Regex Ending();

    [GeneratedRegex(@"round (\d+): \d+ ranks on .*resuming from checkpoint step (\d+)")]
    private static partial Regex Resuming();

    private static async Task WaitForStageCheckpointAsync(NetnsJob job, string stage, long step)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await job.ReadStoreObjectAsync($"{stage}/checkpoints/latest") is { } bytes
                && System.Text.Json.JsonDocument.Parse(bytes).RootElement is var pointer && pointer.TryGetProperty("manifest", out _) && pointer.GetProperty("step").GetInt64() >= step)
            {
                return;
            }

            if (clock.Elapsed > JobLimit || job.Coordinator is { HasExited: true })
            {
                throw new TimeoutException($"no {stage} checkpoint of step >= {step}:\n{job.Coordinator?.Tail(40)}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>No orphaned training: with the coordinator gone, every agent stops its workers by itself.</summary>
    private static async Task WaitForNoWorkerAsync(NetnsJob job, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Enumerable.Range(0, 2).Any(rank => Sora.Cluster.Agent.WorkerProcessTable.Find(job.Directory, rank) is not null))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"workers still run {timeout.TotalSeconds:F0} s after the coordinator was killed:\n{job.Agents[0].Tail(30)}");
            }

            await Task.Delay(200);
        }
    }

    private void Kill(int pid, string what)
    {
        Process.GetProcessById(pid).Kill();
        output.WriteLine($"killed {what} (pid {pid})");
    }

    private static Task<NetnsJob> Start(int hosts, string nodes, int workersPerHost) =>
        ClusterJob.StartAsync(hosts, nodes, workersPerHost, maxRestarts: 8, ditSteps: DitSteps, privateDisks: true, vaeSteps: 8, checkpointEvery: CheckpointEvery, generatedData: true,
            coordinatorTimeout: 2);


    /// <summary>The final DiT weights of the same job on one host: 2 workers there, the same world size, no fault.</summary>
    private static readonly Lazy<Task<byte[]>> ReferenceWeights = new(async () =>
    {
        await using var job = await Start(hosts: 2, nodes: "1", workersPerHost: 2);
        var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
        if (code != 0)
        {
            throw new InvalidOperationException($"the one-host reference run failed ({code}):\n{job.Coordinator.Tail(60)}");
        }

        return await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject) ?? throw new InvalidOperationException("the one-host reference run published no final weights");
    });
}
