using System.Globalization;
using Sora.Cluster.Tests.Harness;
using Sora.Netns;
using Xunit.Abstractions;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// Faults at random times, of every kind (issue 24 §5): a job started with <c>sora launch</c> on host 1 (the coordinator
/// and that node's agent in one process) and an agent on host 2, two workers each, hosts sharing nothing but Azurite on
/// host 0. Each fault is due at a point drawn uniformly over the job's whole progress (its VAE and DiT steps) and lands a
/// random fraction of a second after the job gets there: mid-step, mid-checkpoint, in the VAE stage, or during the
/// rendezvous or restart of the fault before when two are drawn close together. Kinds (<see cref="JobFault"/>): one worker
/// SIGKILLed, every worker of a node SIGKILLed, a worker SIGSTOPped, and the launch process itself SIGKILLed and started
/// again (its coordinator restarted while host 2's agent runs on). The job must complete
/// with the bytes of the run that had no fault, and leave no worker behind. CI injects <see cref="DefaultFaults"/>;
/// <c>cluster/chaos.sh</c> runs the same test with more (SORA_CHAOS_FAULTS) and other seeds (SORA_CHAOS_SEED).
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int DefaultFaults = 8;
    private const int CheckpointEvery = 3;
    private const int VaeSteps = 12;

    /// <summary>
    /// Faults injected, and the DiT steps that leave room for them: a fault and the recovery it forces take longer than
    /// the few steps between two due points, so the job is lengthened with the count (48 steps for CI's 8), else the last
    /// faults of a long run would land on a job that already ended.
    /// </summary>
    private static readonly int Faults = Setting("SORA_CHAOS_FAULTS", DefaultFaults);

    private static readonly int DitSteps = 6 * Math.Max(DefaultFaults, Faults);
    private const int WorkersPerNode = 2;
    private const int WorldSize = 2 * WorkersPerNode;
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(15);

    [NetnsFact]
    public async Task Faults_of_every_kind_at_random_times_end_with_the_weights_of_an_uninterrupted_run_and_leave_no_worker()
    {
        var faults = Faults;
        var seed = Setting("SORA_CHAOS_SEED", 1);
        var random = new Random(seed);
        var reference = await ReferenceWeights.Value;
        await using var job = await Start();
        var injector = new JobFaults(job, WorldSize, Relaunch);
        var injected = new List<string>();

        // Every kind once in a random order, then random kinds; each due at a random point of the job's progress.
        var kinds = Enum.GetValues<JobFault>();
        var kindsInOrder = kinds.OrderBy(_ => random.Next()).Concat(Enumerable.Range(0, Math.Max(0, faults - kinds.Length)).Select(_ => kinds[random.Next(kinds.Length)])).Take(faults);
        var points = Enumerable.Range(0, faults).Select(_ => random.Next(1, VaeSteps + DitSteps)).Order().ToList();
        foreach (var (fault, point) in kindsInOrder.Zip(points))
        {
            var (stage, step) = point <= VaeSteps ? ("vae", point) : ("dit", point - VaeSteps);
            await injector.WaitForProgressAsync(stage, step, JobLimit);
            await Task.Delay(TimeSpan.FromSeconds(random.NextDouble()));
            var what = await injector.InjectAsync(fault, random);
            injected.Add(what);
            output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} fault {injected.Count} (due at {stage} step {step}): {what}");
        }

        var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
        output.WriteLine(string.Join("\n---\n", job.Coordinators.Select(l => l.Output)));
        code.Should().Be(0, "the job completes whatever happened to it");
        (await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject)).Should().Equal(reference, $"after {faults} random faults (seed {seed}) the job ends exactly where the uninterrupted run ends");
        await job.WaitForNoWorkerAsync(WorldSize, TimeSpan.FromSeconds(30));
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>The chaos topology's job, started: the launch on host 1 and an agent on host 2, two workers each (world size 4 in every round).</summary>
    private static async Task<NetnsJob> Start()
    {
        var job = await ClusterJob.CreateAsync(hosts: 3, maxRestarts: 100, hangTimeout: 6, ditSteps: DitSteps, checkpointEvery: CheckpointEvery,
            privateDisks: true, vaeSteps: VaeSteps, generatedData: true);
        Relaunch(job);
        job.StartAgent(2, WorkersPerNode, coordinatorHost: JobFaults.LaunchHost);
        return job;
    }

    private static HostProcess Relaunch(NetnsJob job) => job.StartLaunch(JobFaults.LaunchHost, "2", WorkersPerNode);

    /// <summary>The final DiT weights of the same job on the same topology with no fault.</summary>
    private static readonly Lazy<Task<byte[]>> ReferenceWeights = new(async () =>
    {
        await using var job = await Start();
        var code = await job.Coordinator!.WaitForExitAsync(JobLimit);
        return code == 0 && await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject) is { } weights
            ? weights
            : throw new InvalidOperationException($"the uninterrupted reference run failed ({code}):\n{job.Coordinator.Tail(60)}");
    });
}
