using System.Diagnostics;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;
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

    public StepBenchmarkReport Run(IProgress<string>? progress = null)
    {
        TorchRuntime.SetThreads(Threads);
        progress?.Report($"GEMM peak with {Threads} thread(s)");
        const long gemmSize = 2048;
        var peakSeconds = Enumerable.Range(0, 3).Min(_ => NativeBenchmarks.Gemm(gemmSize, 2));
        var peak = 2.0 * gemmSize * gemmSize * gemmSize * 2 / peakSeconds / 1e9;

        RandomState.ManualSeed(0);
        using var model = new VideoDiT(Config, vocabularySize: 64);
        using var optimizer = new AdamW(model.Parameters(), LearningRate);
        var flow = new RectifiedFlow();
        var times = new List<double>();
        double Step()
        {
            using var scope = Tensor.NewDisposeScope();
            var x0 = Tensor.Randn([Batch, Config.LatentChannels, Latent.Frames, Latent.Height, Latent.Width]);
            var tokens = Tensor.RandInt(1, 64, [Batch, Config.MaxTextTokens]);
            var clock = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            flow.Loss(model, x0, tokens).Loss.Backward();
            optimizer.Step();
            return clock.Elapsed.TotalSeconds;
        }

        for (var step = 0; step < Warmup + Steps; step++)
        {
            progress?.Report(step < Warmup ? $"warm-up step {step + 1}/{Warmup}" : $"timed step {step - Warmup + 1}/{Steps}");
            var seconds = Step();
            if (step >= Warmup)
            {
                times.Add(seconds);
            }
        }

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
        return new StepBenchmarkReport(Threads, model.ParameterCount(), model.TokenCount(Latent.Frames, Latent.Height, Latent.Width), Batch,
            median, Batch / median, flops, flops.Total / median / 1e9, peak, profile);
    }
}

/// <summary>The figures of one <c>sora bench step</c> run.</summary>
internal sealed record StepBenchmarkReport(
    int Threads,
    long Parameters,
    long TokensPerSample,
    int Batch,
    double StepSeconds,
    double SamplesPerSecond,
    DiTFlops Flops,
    double AchievedGflops,
    double PeakGflops,
    IReadOnlyList<OperatorTime>? Profile = null)
{
    public double Mfu => AchievedGflops / PeakGflops;
}
