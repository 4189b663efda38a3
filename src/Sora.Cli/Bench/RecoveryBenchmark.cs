using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Netns;

namespace Sora.Cli.Bench;

/// <summary>The faults <c>sora bench recovery</c> injects.</summary>
internal enum RecoveryFault
{
    WorkerKill,
    Hang,
    NodeKill,
    Partition,
}

/// <summary>
/// One fault's recovery: seconds from the fault to its detection and to the first training step of the new round, the
/// steps trained again, and the bytes the new round's ranks read from the store to resume.
/// </summary>
internal sealed record RecoveryResult(RecoveryFault Fault, double DetectionSeconds, double BackToTrainingSeconds, long StepsRedone, long ResumedFrom, long BytesReadOnResume, string Cause);

/// <summary>
/// <c>sora bench recovery</c>: a real 3-host cluster on this machine whose hosts share nothing but the store (network
/// namespaces with private disks, Azurite on host 0: <see cref="NetnsJob"/>; the coordinator on host 0, an agent with one
/// worker on hosts 1 and 2), a tiny job that checkpoints every few steps into the store, and one fault per run after the
/// second checkpoint. The times come from the coordinator's own event lines (millisecond time stamps), measured against
/// the moment the fault was injected. Needs root (network namespaces).
/// </summary>
internal sealed partial class RecoveryBenchmark
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    /// <summary>Checkpoint interval of the bench job (steps redone are at most this).</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>The hang timeout the bench job sets (a hang's detection is this plus up to a tick).</summary>
    public double HangTimeout { get; init; } = 8;

    public async Task<RecoveryResult> RunAsync(RecoveryFault fault, IProgress<string> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        await using var job = await BenchClusterJob.CreateAsync(3, "bench-recovery", ditSteps: 100_000, CheckpointEvery, HangTimeout, maxRestarts: 1, minNodes: 1, maxNodes: 2);
        var coordinator = job.StartCoordinator("1:2", "ddp");
        job.StartAgent(1, 1);
        job.StartAgent(2, 1);

        status.Report($"{fault}: waiting for the checkpoint of step {2 * CheckpointEvery} in {job.Store}");
        await coordinator.WaitForLineAsync(l => l.Contains("round 1: 2 ranks on 2 node(s)", StringComparison.Ordinal), Limit);
        await job.WaitForCheckpointAsync(2 * CheckpointEvery, Limit);
        var injected = DateTime.Now;
        Inject(fault, job);
        status.Report($"{fault}: injected at {injected:HH:mm:ss.fff}");

        var training = await coordinator.WaitForLineAsync(l => l.Contains("round 2: training:", StringComparison.Ordinal), Limit);
        var ending = await coordinator.WaitForLineAsync(l => l.Contains("round 1 ending (", StringComparison.Ordinal), TimeSpan.FromSeconds(1));
        var reached = long.Parse(EndingStep().Match(ending).Groups[1].Value, CultureInfo.InvariantCulture);
        var trainingMatch = TrainingLine().Match(training);
        var firstStep = DateTime.Today + TimeSpan.ParseExact(trainingMatch.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
        var resumedFrom = long.Parse(trainingMatch.Groups[2].Value, CultureInfo.InvariantCulture);
        return new RecoveryResult(fault, (BenchClusterJob.StampOf(ending) - injected).TotalSeconds, (firstStep - injected).TotalSeconds, Math.Max(0, reached - resumedFrom), resumedFrom,
            await BytesLoadedAsync(job), ending.Split('\n')[0].Split(": ", 2)[^1]);
    }

    private static void Inject(RecoveryFault fault, NetnsJob job)
    {
        switch (fault)
        {
            case RecoveryFault.WorkerKill:
                Signal(job.WorkerPid(1), "KILL");
                break;
            case RecoveryFault.Hang:
                Signal(job.WorkerPid(1), "STOP");
                break;
            case RecoveryFault.NodeKill:
                // Everything on host 2 dies at once: its agent and its worker.
                job.Agents[1].KillTree();
                break;
            case RecoveryFault.Partition:
                job.Cluster.Cut(2);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    /// <summary>What the new round's ranks read from the store to resume (<c>sora_rank_checkpoint_load_bytes</c>, summed), once every rank reported it.</summary>
    private static async Task<long> BytesLoadedAsync(NetnsJob job)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var exposition = await job.ApiAsync("/metrics") ?? "";
            var loaded = LoadBytes().Matches(exposition).Select(m => long.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();
            if (loaded.Count > 0 && loaded.All(b => b > 0))
            {
                return loaded.Sum();
            }

            await Task.Delay(200);
        }

        return 0;
    }

    private static void Signal(int pid, string signal) => Sora.Tools.ToolProcess.Run("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);

    [GeneratedRegex(@"ending \([a-z-]+\) at (?:vae|dit) step (\d+)")]
    private static partial Regex EndingStep();

    [GeneratedRegex(@" at (\d\d:\d\d:\d\d\.\d\d\d), .*\(resumed from step (\d+)\)")]
    private static partial Regex TrainingLine();

    [GeneratedRegex(@"^sora_rank_checkpoint_load_bytes\{[^}]*\} (\S+)$", RegexOptions.Multiline)]
    private static partial Regex LoadBytes();
}
