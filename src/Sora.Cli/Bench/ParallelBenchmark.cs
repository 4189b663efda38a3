using System.Diagnostics;
using System.Text.Json;
using Sora.Cli.Launch;
using Sora.Cluster.Agent;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Model.Dit;
using Sora.Torch;
using Sora.Torch.Distributed;

namespace Sora.Cli.Bench;

/// <summary>
/// <c>sora bench parallel</c>: the bench model's training step on one process with every thread, then DDP
/// and FSDP on N worker processes sharing those threads (Gloo over loopback), each against the fp32 GEMM
/// peak of all threads measured during each run (right before every timed step); plus all-reduce bandwidth at 1, 16 and 64 MB.
/// </summary>
internal sealed class ParallelBenchmark
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public required DiTConfig Config { get; init; }

    public required int Ranks { get; init; }

    public required int Steps { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    public required Func<ParallelMode, int, int, int, string, IEnumerable<string>> WorkerArguments { get; init; }

    /// <summary>The all-reduce sizes in MiB.</summary>
    public static IReadOnlyList<int> AllReduceMegabytes { get; } = [1, 16, 64];

    public ParallelBenchmarkReport Run(IProgress<string> progress)
    {
        progress.Report($"single process, {Threads} threads");
        var single = Step(ParallelMode.None, group: null, Threads, progress);
        var runs = new List<StepBenchmarkReport> { single };
        IReadOnlyList<AllReduceBandwidth> bandwidth = [];
        foreach (var mode in new[] { ParallelMode.Ddp, ParallelMode.Fsdp })
        {
            var directory = Path.Combine(Path.GetTempPath(), $"sora-bench-{mode.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(directory);
            try
            {
                var result = Path.Combine(directory, "rank0.json");
                var failed = RunRanks(directory, (rank, port, threads) => WorkerArguments(mode, rank, port, threads, result), progress);
                if (failed is not null)
                {
                    throw new InvalidOperationException($"the {mode} benchmark failed: rank {failed.Rank} ended with {failed.How}:\n{failed.LogTail}\n(full output: {failed.LogFile})");
                }

                var worker = JsonSerializer.Deserialize<WorkerResult>(File.ReadAllText(result))!;
                runs.Add(worker.Step);
                if (worker.AllReduce.Count > 0)
                {
                    bandwidth = worker.AllReduce;
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return new ParallelBenchmarkReport(runs, bandwidth);
    }

    /// <summary>Starts the ranks with a rendezvous store on loopback and their share of the threads, relays rank 0's status lines, and returns the first failed rank's exit (null: all exited 0).</summary>
    private WorkerExited? RunRanks(string directory, Func<int, int, int, IEnumerable<string>> arguments, IProgress<string> progress)
    {
        using var store = TcpStore.CreateServer("127.0.0.1", 0, TimeSpan.FromMinutes(5));
        var threads = Math.Max(1, Threads / Ranks);
        var self = ClusterJob.Self();
        var workers = Enumerable.Range(0, Ranks).Select(rank =>
        {
            var start = new ProcessStartInfo(self[0]);
            foreach (var argument in self.Skip(1).Concat(arguments(rank, store.Port, threads)))
            {
                start.ArgumentList.Add(argument);
            }

            WorkerCommandLine.SetEnvironment(start, rank, rank, Ranks, 0, threads);
            return new LocalWorker(start, Path.Combine(directory, "logs", $"rank-{rank}.log"));
        }).ToList();
        return LocalWorkerGroup.RunAsync(workers, (rank, message) =>
        {
            if (rank == 0 && message.Status is { } status)
            {
                progress.Report(status);
            }
        }).GetAwaiter().GetResult();
    }

    /// <summary>One rank's part: all-reduce bandwidth (DDP run only), then the timed steps; rank 0 writes the result.</summary>
    public static void RunWorker(DiTConfig config, ParallelMode mode, ProcessGroup group, int threads, int steps, string resultFile, IProgress<string> progress)
    {
        var bandwidth = mode == ParallelMode.Ddp ? AllReduce(group, progress) : [];
        var report = Step(mode, group, threads, progress, config, steps);
        if (group.Rank == 0)
        {
            File.WriteAllText(resultFile, JsonSerializer.Serialize(new WorkerResult(report, bandwidth), s_json));
        }
    }

    private StepBenchmarkReport Step(ParallelMode mode, ProcessGroup? group, int threads, IProgress<string> progress) =>
        Step(mode, group, threads, progress, Config, Steps);

    private static StepBenchmarkReport Step(ParallelMode mode, ProcessGroup? group, int threads, IProgress<string> progress, DiTConfig config, int steps) =>
        new StepBenchmark
        {
            Config = config,
            Batch = 4,
            Latent = (8, 16, 16),
            Steps = steps,
            Threads = threads,
            Group = group,
            Mode = mode,
        }.Run(new Progress<string>(m => progress.Report($"{mode}: {m}")));

    private static List<AllReduceBandwidth> AllReduce(ProcessGroup group, IProgress<string> progress)
    {
        var rows = new List<AllReduceBandwidth>();
        foreach (var megabytes in AllReduceMegabytes)
        {
            progress.Report($"all_reduce {megabytes} MB");
            using var scope = Tensor.NewDisposeScope();
            var tensor = Tensor.Ones([megabytes * 1024L * 1024 / 4]);
            var times = new List<double>();
            for (var i = 0; i < 7; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var work = group.AllReduce(tensor))
                {
                    work.Wait();
                }

                if (i >= 2)
                {
                    times.Add(clock.Elapsed.TotalSeconds);
                }
            }

            var median = times.Order().ElementAt(times.Count / 2);
            var bytes = megabytes * 1024.0 * 1024;
            var algorithm = bytes / median / 1e9;
            rows.Add(new AllReduceBandwidth(megabytes, median, algorithm, algorithm * 2 * (group.WorldSize - 1) / group.WorldSize));
        }

        return rows;
    }

    private sealed record WorkerResult(StepBenchmarkReport Step, IReadOnlyList<AllReduceBandwidth> AllReduce);
}

/// <summary>All-reduce of one size: median time, algorithm bandwidth (bytes/time) and bus bandwidth (× 2(N−1)/N), GB/s.</summary>
internal sealed record AllReduceBandwidth(int Megabytes, double Seconds, double AlgorithmGBps, double BusGBps);

/// <summary>What <c>sora bench parallel</c> measured.</summary>
internal sealed record ParallelBenchmarkReport(IReadOnlyList<StepBenchmarkReport> Runs, IReadOnlyList<AllReduceBandwidth> AllReduce)
{
    /// <summary>FSDP's step time over DDP's (goal ≤ 1.10).</summary>
    public double FsdpOverDdp => Runs.Single(r => r.Mode == ParallelMode.Fsdp).StepSeconds / Runs.Single(r => r.Mode == ParallelMode.Ddp).StepSeconds;
}
