using System.Diagnostics;
using Sora.Distributed.Parallel;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.Optim;

namespace Sora.Cli.Bench;

/// <summary>
/// Times training steps of a DiT config on random latents and reports throughput, model FLOPs and MFU
/// against the fp32 GEMM peak measured in the same run (inside the shim, with the same threads).
/// </summary>
internal sealed class StepBenchmark
{
    public required DiTConfig Config { get; init; }

    public required int Batch { get; init; }

    public required (long Frames, long Height, long Width) Latent { get; init; }

    public required int Steps { get; init; }

    public int Warmup { get; init; } = 2;

    public required int Threads { get; init; }

    public double LearningRate { get; init; } = 1e-4;

    /// <summary>When set, one more step runs under libtorch's operator profiler and its Chrome trace goes here.</summary>
    public string? ProfilePath { get; init; }

    /// <summary>The group this rank trains in (null: one process), and how.</summary>
    public ProcessGroup? Group { get; init; }

    public ParallelMode Mode { get; init; } = ParallelMode.None;

    /// <summary>Where the model trains. On CUDA the peak is an fp32 matrix product on the device (TF32 off, libtorch's default).</summary>
    public Device Device { get; init; } = Device.Cpu;

    private bool OnGpu => Device.Type == DeviceType.Cuda;

    /// <summary>FSDP's compute dtype (bf16 mixed precision), or null for fp32.</summary>
    public ScalarType? ComputeDType { get; init; }

    public StepBenchmarkReport Run(IProgress<string>? progress = null)
    {
        TorchRuntime.SetThreads(Threads);
        progress?.Report($"{(ComputeDType is { } mixed ? mixed.ToString() : "fp32")} GEMM peak on {(OnGpu ? Device.ToString() : $"{Threads} CPU thread(s)")}");
        // MFU is against the peak of the dtype the model computes in.
        var dtype = ComputeDType ?? ScalarType.Float32;
        // On the CPU the peak is measured right before every timed step and the median taken, so a step and its
        // peak see the same machine (a shared VM's speed drifts by a third within a minute); elsewhere once, up front.
        var cpuPeak = !OnGpu && dtype == ScalarType.Float32;
        var peaks = new List<double>();
        double? peak = cpuPeak ? null : GemmPeak.Measure(Device, dtype, OnGpu ? GemmPeak.CudaSide : 2048) / 1e9;

        RandomState.ManualSeed(0);
        using var model = new VideoDiT(Config, vocabularySize: 64);
        model.To(Device);
        using var ddp = Mode == ParallelMode.Ddp ? new DistributedDataParallel(model, Group!) : null;
        using var fsdp = Mode == ParallelMode.Fsdp ? new FullyShardedDataParallel(model, model.Blocks, Group!, computeDType: ComputeDType) : null;
        using var optimizer = new AdamW(fsdp?.ShardParameters ?? model.Parameters(), LearningRate);
        var flow = new RectifiedFlow();
        var times = new List<double>();
        var exposed = new List<double>();
        double Step()
        {
            using var scope = Tensor.NewDisposeScope();
            var x0 = Tensor.Randn([Batch, Config.LatentChannels, Latent.Frames, Latent.Height, Latent.Width], device: Device);
            var tokens = Tensor.RandInt(1, 64, [Batch, Config.MaxTextTokens], device: Device);
            Synchronize();
            var clock = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            fsdp?.BeginStep();
            flow.Loss(model, x0, tokens).Loss.Backward();
            var wait = Stopwatch.StartNew();
            ddp?.SynchronizeGradients();
            fsdp?.FinishBackward();
            exposed.Add(wait.Elapsed.TotalSeconds);
            optimizer.Step();
            Synchronize();
            return clock.Elapsed.TotalSeconds;
        }

        for (var step = 0; step < Warmup + Steps; step++)
        {
            progress?.Report(step < Warmup ? $"warm-up step {step + 1}/{Warmup}" : $"timed step {step - Warmup + 1}/{Steps}");
            if (cpuPeak && step >= Warmup)
            {
                // Ranks measure together (a core's rate alone is not its rate beside a busy neighbour) and
                // start the step together, so the measurement adds no wait to the step's collectives.
                Barrier();
                peaks.Add(CpuGemmPeak());
                Barrier();
            }

            var seconds = Step();
            if (step >= Warmup)
            {
                times.Add(seconds);
            }
        }

        var exposedMedian = exposed.Skip(Warmup).Order().ElementAt(Steps / 2);

        IReadOnlyList<OperatorTime>? profile = null;
        if (ProfilePath is not null)
        {
            progress?.Report("profiled step");
            using (OperatorProfiler.Start(ProfilePath))
            {
                Step();
            }

            profile = OperatorProfiler.Summarize(ProfilePath);
        }

        var flops = DiTFlops.PerStep(model, Batch, Latent.Frames, Latent.Height, Latent.Width);
        var median = times.Order().ElementAt(times.Count / 2);
        peak ??= peaks.Order().ElementAt(peaks.Count / 2);
        return new StepBenchmarkReport(Threads, model.ParameterCount(), model.TokenCount(Latent.Frames, Latent.Height, Latent.Width), Batch,
            median, flops, flops.Total / median / 1e9, peak.Value, profile)
        {
            Mode = Mode,
            Ranks = Group?.WorldSize ?? 1,
            ExposedCommunicationSeconds = Mode == ParallelMode.None ? 0 : exposedMedian,
        };
    }

    // This process's threads' best fp32 GEMM rate: the better of two timed 2048³ products in C++, either one
    // product on all threads (OpenBLAS splits it) or one single-threaded product per thread at once. Here the
    // second is ~15% faster (two cores: 110-128 against 95 GFLOP/s), and it is what the cores can do.
    private double CpuGemmPeak()
    {
        const long n = 2048;
        const int runs = 2;
        var flops = 2.0 * n * n * n;
        var threaded = flops / Enumerable.Range(0, runs).Min(_ => NativeBenchmarks.Gemm(n, 1)) / 1e9;
        if (Threads == 1)
        {
            return threaded;
        }

        TorchRuntime.SetThreads(1);
        try
        {
            var wall = Enumerable.Range(0, runs).Min(_ =>
            {
                using var start = new Barrier(Threads);
                var seconds = new double[Threads];
                var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
                {
                    start.SignalAndWait();
                    seconds[t] = NativeBenchmarks.Gemm(n, 1);
                })).ToArray();
                foreach (var worker in workers)
                {
                    worker.Start();
                }

                foreach (var worker in workers)
                {
                    worker.Join();
                }

                return seconds.Max();
            });
            return Math.Max(threaded, Threads * flops / wall / 1e9);
        }
        finally
        {
            TorchRuntime.SetThreads(Threads);
        }
    }

    private void Barrier()
    {
        if (Group is not null)
        {
            using var work = Group.Barrier();
            work.Wait();
        }
    }

    private void Synchronize() => TorchRuntime.Synchronize(Device);
}

/// <summary>The figures of one <c>sora bench step</c> run; with several ranks, Batch, the GFLOP/s and the peak are one rank's.</summary>
internal sealed record StepBenchmarkReport(
    int Threads,
    long Parameters,
    long TokensPerSample,
    int Batch,
    double StepSeconds,
    DiTFlops Flops,
    double AchievedGflops,
    double PeakGflops,
    IReadOnlyList<OperatorTime>? Profile = null)
{
    public double Mfu => AchievedGflops / PeakGflops;

    /// <summary>The job's throughput: every rank's samples per second together (what to compare across setups).</summary>
    public double SamplesPerSecond => Ranks * SamplesPerSecondPerRank;

    /// <summary>One rank's samples per second.</summary>
    public double SamplesPerSecondPerRank => Batch / StepSeconds;

    /// <summary>How the step was parallelised.</summary>
    public ParallelMode Mode { get; init; }

    /// <summary>Ranks training together (Batch is per rank).</summary>
    public int Ranks { get; init; } = 1;

    /// <summary>Median time a step waited for gradient communication after backward.</summary>
    public double ExposedCommunicationSeconds { get; init; }
}

/// <summary>How a benchmarked step is parallelised.</summary>
internal enum ParallelMode
{
    None,
    Ddp,
    Fsdp,
}
