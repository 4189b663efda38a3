using System.Diagnostics;
using System.Globalization;
using Sora.Cluster.Agent;
using Sora.Cluster.Tests.Harness;
using Xunit.Abstractions;
using Sora.Netns;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// Faults at random times, of every kind (issue 24 §5): a job started with <c>sora launch</c> on host 1 (the coordinator
/// and that node's agent in one process) and an agent on host 2, two workers each, hosts sharing nothing but Azurite on
/// host 0. Each fault is due at a point drawn uniformly over the job's whole progress (its VAE and DiT steps) and lands a
/// random fraction of a second after the job gets there: mid-step, mid-checkpoint, in the VAE stage, or during the
/// rendezvous or restart of the fault before when two are drawn close together. Kinds: one worker SIGKILLed, every worker of a node SIGKILLed, a worker SIGSTOPped, and the launch process
/// itself SIGKILLed and started again (its coordinator restarted while host 2's agent runs on). The job must complete
/// with the bytes of the run that had no fault, and leave no worker behind. CI injects <see cref="DefaultFaults"/>;
/// <c>cluster/chaos.sh</c> runs the same test with more (SORA_CHAOS_FAULTS) and other seeds (SORA_CHAOS_SEED).
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int DefaultFaults = 8;
    private const int CheckpointEvery = 3;
    private const int VaeSteps = 12;
    private const int DitSteps = 48;
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(15);

    private enum Fault
    {
        WorkerKill,
        NodeWorkersKill,
        WorkerStop,
        LaunchKill,
    }

    [NetnsFact]
    public async Task Faults_of_every_kind_at_random_times_end_with_the_weights_of_an_uninterrupted_run_and_leave_no_worker()
    {
        var faults = Setting("SORA_CHAOS_FAULTS", DefaultFaults);
        var seed = Setting("SORA_CHAOS_SEED", 1);
        var random = new Random(seed);
        var reference = await ReferenceWeights(faults).Value;
        await using var job = await Start(faults);
        var launches = new List<HostProcess> { job.Coordinator! };
        var injected = new List<string>();
        var kinds = Enum.GetValues<Fault>();

        // Every kind once in a random order, then random kinds; each due at a random point of the job's progress.
        var kindsInOrder = kinds.OrderBy(_ => random.Next()).Concat(Enumerable.Range(0, Math.Max(0, faults - kinds.Length)).Select(_ => kinds[random.Next(kinds.Length)])).Take(faults);
        var points = Enumerable.Range(0, faults).Select(_ => random.Next(1, VaeSteps + DitSteps)).Order().ToList();
        foreach (var (fault, point) in kindsInOrder.Zip(points))
        {
            var (stage, step) = point <= VaeSteps ? ("vae", point) : ("dit", point - VaeSteps);
            await WaitForProgressAsync(job, stage, step);
            await Task.Delay(TimeSpan.FromSeconds(random.NextDouble()));
            var what = await InjectAsync(job, fault, random, launches);
            injected.Add(what);
            output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} fault {injected.Count} (due at {stage} step {step}): {what}");
        }

        var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
        output.WriteLine(string.Join("\n---\n", launches.Select(l => l.Output)));
        code.Should().Be(0, "the job completes whatever happened to it");
        (await job.ReadStoreObjectAsync(ClusterJob.FinalWeightsObject)).Should().Equal(reference, $"after {faults} random faults (seed {seed}) the job ends exactly where the uninterrupted run ends");
        await WaitForNoWorkerAsync(job, TimeSpan.FromSeconds(30));
    }

    private static async Task<string> InjectAsync(ClusterJob job, Fault fault, Random random, List<HostProcess> launches)
    {
        var running = Enumerable.Range(0, 4).Select(rank => (Rank: rank, Pid: WorkerProcessTable.Find(job.Directory, rank))).Where(w => w.Pid is not null).ToList();
        switch (fault)
        {
            case Fault.WorkerKill when running.Count > 0:
            {
                var (rank, pid) = running[random.Next(running.Count)];
                Signal(pid!.Value, "KILL");
                return $"SIGKILL rank {rank}";
            }

            case Fault.NodeWorkersKill when running.Count > 0:
            {
                // Ranks 0-1 run on host 1 (the launch's agent formed the first round), 2-3 on host 2; a later round may swap them,
                // so the node is the one the worker process belongs to.
                var node = NodeOf(job, running[random.Next(running.Count)].Pid!.Value);
                var killed = running.Where(w => NodeOf(job, w.Pid!.Value) == node).ToList();
                killed.ForEach(w => Signal(w.Pid!.Value, "KILL"));
                return $"SIGKILL every worker of host {node} (ranks {string.Join(", ", killed.Select(w => w.Rank))})";
            }

            case Fault.WorkerStop when running.Count > 0:
            {
                var (rank, pid) = running[random.Next(running.Count)];
                Signal(pid!.Value, "STOP");
                return $"SIGSTOP rank {rank}";
            }

            case Fault.LaunchKill:
            {
                var launch = job.Coordinator!;
                launch.Kill();
                await launch.WaitForExitAsync(TimeSpan.FromSeconds(30));
                await Task.Delay(TimeSpan.FromSeconds(random.NextDouble() * 3));
                launches.Add(job.StartLaunch(1, "2", 2));
                return "SIGKILL the launch process (coordinator and host 1's agent), then start it again";
            }

            default:
                // No worker runs right now (a rendezvous, a restart): the fault lands there, on the launch process.
                return await InjectAsync(job, Fault.LaunchKill, random, launches);
        }
    }

    /// <summary>Waits until the job is at <paramref name="stage"/> step <paramref name="step"/> or past it (the coordinator's API, from host 1).</summary>
    private static async Task WaitForProgressAsync(ClusterJob job, string stage, long step)
    {
        var clock = Stopwatch.StartNew();
        var client = job.Cluster.HttpClient(1);
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{job.Cluster.Address(1)}:8080/api/job");
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", job.Token);
                using var response = await client.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    using var view = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    var (at, atStep) = (view.RootElement.GetProperty("stage").GetString(), view.RootElement.GetProperty("step").GetInt64());
                    if (at == "dit" && stage == "vae" || at == stage && atStep >= step || view.RootElement.GetProperty("state").GetString() is "succeeded" or "failed")
                    {
                        return;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // The launch process (and its API) is being restarted: ask again.
            }

            clock.Elapsed.Should().BeLessThan(JobLimit, $"the job never reached {stage} step {step}");
            await Task.Delay(100);
        }
    }

    /// <summary>The host (1 or 2) a process runs on: the one whose network namespace it is in.</summary>
    private static int NodeOf(ClusterJob job, int pid)
    {
        var own = new FileInfo($"/proc/{pid}/ns/net").ResolveLinkTarget(returnFinalTarget: false)?.ToString() ?? "";
        for (var host = 1; host <= 2; host++)
        {
            var inode = Inode(Path.Combine("/run/netns", job.Cluster.Namespace(host)));
            if (own.Contains(inode, StringComparison.Ordinal))
            {
                return host;
            }
        }

        return 1;
    }

    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return text;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static async Task WaitForNoWorkerAsync(ClusterJob job, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Enumerable.Range(0, 4).Select(rank => WorkerProcessTable.Find(job.Directory, rank)).FirstOrDefault(pid => pid is not null) is { } left)
        {
            clock.Elapsed.Should().BeLessThan(timeout, $"worker process {left} is still there after the job ended");
            await Task.Delay(200);
        }
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>The chaos topology's job, started: the launch on host 1 and an agent on host 2, two workers each (world size 4 in every round).</summary>
    private static async Task<ClusterJob> Start(int faults)
    {
        var job = await ClusterJob.CreateAsync(hosts: 3, maxRestarts: (4 * faults) + 4, hangTimeout: 6, ditSteps: DitSteps, checkpointEvery: CheckpointEvery,
            privateDisks: true, vaeSteps: VaeSteps, generatedData: true);
        job.StartLaunch(1, "2", 2);
        job.StartAgentOf(1, 2, 2);
        return job;
    }

    private static readonly Dictionary<int, Lazy<Task<byte[]>>> References = [];

    private static Lazy<Task<byte[]>> ReferenceWeights(int faults)
    {
        lock (References)
        {
            if (!References.TryGetValue(faults, out var reference))
            {
                reference = new Lazy<Task<byte[]>>(async () =>
                {
                    await using var job = await Start(faults);
                    var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
                    return code == 0 && await job.ReadStoreObjectAsync(ClusterJob.FinalWeightsObject) is { } weights
                        ? weights
                        : throw new InvalidOperationException($"the uninterrupted reference run failed ({code}):\n{job.Coordinator.Tail(60)}");
                });
                References[faults] = reference;
            }

            return reference;
        }
    }
}
