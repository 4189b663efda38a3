using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Netns;

namespace Sora.Cli.Bench;

/// <summary>
/// Where a run's wall time went (seconds): <see cref="Training"/> is the steps that count (the uninterrupted run's step
/// time); the rest is the first start-up, detecting faults, restarting (ending the round, rendezvous, starting workers),
/// reloading (from a round's start to its first step: process start, data, checkpoint load), the steps trained again,
/// and what is left (checkpoint and evaluation pauses, noise between the runs).
/// </summary>
internal sealed record GoodputBreakdown(double Wall, double Training, double Startup, double Detection, double Restart, double Reload, double Redone, double Other)
{
    /// <summary>The effective training time ratio: the wall time spent on steps that count over the whole wall time.</summary>
    public double Goodput => Wall > 0 ? Training / Wall : 0;
}

/// <summary>One run of <c>sora bench goodput</c>: the faults' mean interval (null: none), the faults injected and where the time went.</summary>
internal sealed record GoodputResult(double? MeanIntervalSeconds, IReadOnlyList<string> Faults, GoodputBreakdown Time);

/// <summary>
/// <c>sora bench goodput</c>: the figure fault-tolerant training is judged by. A job launched with <c>sora launch</c> on one
/// namespace host and an agent on another (private disks, Azurite as the store: <see cref="NetnsJob"/>) runs once with no
/// fault (its step time is the training that counts), then once per mean interval with faults of random kinds
/// (<see cref="JobFault"/>) at exponentially distributed times (a Poisson process of that mean) until it completes. Each
/// run's time is split from the coordinators' millisecond event lines. Needs root (network namespaces).
/// </summary>
internal sealed partial class GoodputBenchmark
{
    private const int WorkersPerNode = 1;
    private const int VaeSteps = 12;
    private const int WorldSize = 2 * WorkersPerNode;
    private static readonly TimeSpan Limit = TimeSpan.FromHours(2);

    /// <summary>The job's DiT steps (its VAE trains <see cref="VaeSteps"/>).</summary>
    public int DitSteps { get; init; } = 400;

    /// <summary>Steps between checkpoints (at most this many are trained again after a fault).</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>The seed of the faults' times and kinds.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Runs the job with faults every <paramref name="meanInterval"/> on average (null: none).</summary>
    public async Task<GoodputResult> RunAsync(TimeSpan? meanInterval, double? trainingSeconds, IProgress<string> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        await using var job = await BenchClusterJob.CreateAsync(3, "bench-goodput", DitSteps, CheckpointEvery, hangTimeout: 8, maxRestarts: 10_000, minNodes: 2, maxNodes: 2);
        var started = DateTime.Now;
        Launch(job);
        job.StartAgent(2, WorkersPerNode, coordinatorHost: JobFaults.LaunchHost);
        var faults = new List<(DateTime At, string What)>();
        if (meanInterval is { } mean)
        {
            var random = new Random(Seed);
            var injector = new JobFaults(job, WorldSize, Launch);
            var kinds = Enum.GetValues<JobFault>();
            var next = started + Exponential(random, mean);
            while (!await ExitedByAsync(job, next))
            {
                var what = await injector.InjectAsync(kinds[random.Next(kinds.Length)], random);
                faults.Add((next, what));
                status.Report($"{DateTime.Now:HH:mm:ss} fault {faults.Count} (mean interval {mean.TotalSeconds:F0} s): {what}");
                next = DateTime.Now + Exponential(random, mean);
            }
        }

        var code = await job.Coordinator!.WaitForExitAsync(Limit);
        var ended = DateTime.Now;
        var events = job.Coordinators.SelectMany(c => c.Output.Split('\n')).Where(l => l.StartsWith('[')).ToList();
        if (code != 0)
        {
            throw new InvalidOperationException($"the job failed ({code}):\n{job.Coordinator.Tail(40)}");
        }

        status.Report($"{(meanInterval is null ? "no faults" : $"mean interval {meanInterval.Value.TotalSeconds:F0} s")}: {faults.Count} fault(s), {(ended - started).TotalSeconds:F0} s");
        return new GoodputResult(meanInterval?.TotalSeconds, [.. faults.Select(f => f.What)], Split(events, faults.Select(f => f.At).ToList(), started, ended, trainingSeconds, VaeSteps + DitSteps));
    }

    private static HostProcess Launch(NetnsJob job) => job.StartLaunch(JobFaults.LaunchHost, "2", WorkersPerNode);

    private static TimeSpan Exponential(Random random, TimeSpan mean) => TimeSpan.FromSeconds(-mean.TotalSeconds * Math.Log(1 - random.NextDouble()));

    /// <summary>Waits until <paramref name="deadline"/>; true when the job ended first.</summary>
    private static async Task<bool> ExitedByAsync(NetnsJob job, DateTime deadline)
    {
        while (DateTime.Now < deadline)
        {
            if (job.Coordinator is { HasExited: true } && await job.Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(5)) == 0)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return job.Coordinator is { HasExited: true } && job.Coordinator.ExitCode == 0;
    }

    /// <summary>
    /// Splits a run's wall time from the coordinators' events. The steps that count take <paramref name="trainingSeconds"/>
    /// (the run without faults: from its first step to its end; null: this run is that one). Each fault's recovery runs
    /// from the fault to the next round's first step; a fault that lands while an earlier one is still being recovered
    /// from adds only the time past the end of that recovery, so no second is counted twice.
    /// </summary>
    internal static GoodputBreakdown Split(IReadOnlyList<string> events, IReadOnlyList<DateTime> faults, DateTime started, DateTime ended, double? trainingSeconds, long steps)
    {
        var wall = (ended - started).TotalSeconds;
        var firstSteps = events.Where(l => FirstStep().IsMatch(l)).Select(BenchClusterJob.StampOf).Order().ToList();
        var firstStep = firstSteps.DefaultIfEmpty(ended).Min();
        var training = trainingSeconds ?? (ended - firstStep).TotalSeconds;
        var startup = (firstStep - started).TotalSeconds;
        double detection = 0, restart = 0, reload = 0, redone = 0;
        var stepSeconds = training / Math.Max(1, steps);
        var recovered = DateTime.MinValue;
        foreach (var at in faults.Order())
        {
            // Detected: the round ends, or (the coordinator killed) a new coordinator reads the store.
            var from = at > recovered ? at : recovered;
            var detected = events.Where(l => Ending().IsMatch(l) || l.Contains("last committed checkpoint is", StringComparison.Ordinal) || l.Contains("no committed checkpoint", StringComparison.Ordinal))
                .Select(l => (Line: l, At: BenchClusterJob.StampOf(l))).Where(e => e.At >= at).OrderBy(e => e.At).FirstOrDefault();
            if (detected.Line is null)
            {
                continue;
            }

            var roundStart = events.Where(l => RoundStart().IsMatch(l)).Select(BenchClusterJob.StampOf).Where(t => t >= detected.At).DefaultIfEmpty(detected.At).Min();
            var trains = firstSteps.Where(t => t >= roundStart).DefaultIfEmpty(roundStart).Min();
            if (trains <= from)
            {
                continue; // wholly inside an earlier fault's recovery
            }

            detection += Seconds(from, detected.At);
            restart += Seconds(Later(from, detected.At), roundStart);
            reload += Seconds(Later(from, roundStart), trains);
            recovered = trains;
            if (Ending().Match(detected.Line) is { Success: true } ending
                && events.Select(l => Resumed().Match(l)).FirstOrDefault(m => m.Success && BenchClusterJob.StampOf(m.Value) >= trains) is { } resumed)
            {
                var lost = long.Parse(ending.Groups[1].Value, CultureInfo.InvariantCulture) - long.Parse(resumed.Groups[1].Value, CultureInfo.InvariantCulture);
                redone += Math.Max(0, lost) * stepSeconds;
            }
        }

        var other = wall - training - startup - detection - restart - reload - redone;
        return new GoodputBreakdown(wall, training, startup, detection, restart, reload, redone, other);

        static DateTime Later(DateTime a, DateTime b) => a > b ? a : b;
        static double Seconds(DateTime from, DateTime to) => Math.Max(0, (to - from).TotalSeconds);
    }

    [GeneratedRegex(@"round \d+: training: ")]
    private static partial Regex FirstStep();

    [GeneratedRegex(@"round \d+ ending \([^)]*\) at (?:vae|dit) step (\d+)")]
    private static partial Regex Ending();

    [GeneratedRegex(@"round \d+: \d+ ranks on ")]
    private static partial Regex RoundStart();

    [GeneratedRegex(@"\[\d\d:\d\d:\d\d\.\d\d\d\] round \d+: training: \w+ step \d+ at .*\(resumed from step (\d+)\)")]
    private static partial Regex Resumed();
}
