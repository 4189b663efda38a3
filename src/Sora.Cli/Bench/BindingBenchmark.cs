using System.Diagnostics;
using Sora.Torch;

namespace Sora.Cli.Bench;

/// <summary>
/// Measures what the C# binding costs against the same work done inside the native shim in the same
/// run: fp32 GEMM throughput (goal: binding ≥ 0.97 × native) and the per-call overhead of a small op.
/// Runs alternate between binding and native and keep each side's best, so drift hits both alike.
/// </summary>
internal sealed class BindingBenchmark
{
    public required long GemmSize { get; init; }

    public required int GemmIterations { get; init; }

    public required int Repeats { get; init; }

    public required int SmallOpIterations { get; init; }

    public required IReadOnlyList<int> ThreadCounts { get; init; }

    public BindingBenchmarkReport Run(IProgress<string>? progress = null)
    {
        var gemm = new List<GemmResult>();
        var previousThreads = TorchRuntime.IntraOpThreads;
        var previousBlasThreads = TorchRuntime.BlasThreads;
        try
        {
            foreach (var threads in ThreadCounts)
            {
                progress?.Report($"GEMM {GemmSize}³ fp32 with {threads} thread(s)");
                TorchRuntime.SetThreads(threads);
                gemm.Add(MeasureGemm(threads));
            }

            progress?.Report($"small-op overhead over {SmallOpIterations:N0} calls");
            TorchRuntime.SetThreads(1);
            var smallOp = MeasureSmallOp();
            return new BindingBenchmarkReport(TorchRuntime.TorchVersion, TorchRuntime.Blas.Library, gemm, smallOp);
        }
        finally
        {
            TorchRuntime.IntraOpThreads = previousThreads;
            if (previousBlasThreads > 0)
            {
                TorchRuntime.BlasThreads = previousBlasThreads;
            }
        }
    }

    private GemmResult MeasureGemm(int threads)
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        var a = Tensor.Randn([GemmSize, GemmSize]);
        var b = Tensor.Randn([GemmSize, GemmSize]);
        var output = Tensor.Empty([GemmSize, GemmSize]);
        Tensor.MmOut(output, a, b);

        var bestBinding = double.MaxValue;
        var bestNative = double.MaxValue;
        for (var r = 0; r < Repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < GemmIterations; i++)
            {
                Tensor.MmOut(output, a, b);
            }

            bestBinding = Math.Min(bestBinding, watch.Elapsed.TotalSeconds);
            bestNative = Math.Min(bestNative, NativeBenchmarks.Gemm(GemmSize, GemmIterations));
        }

        var flops = 2.0 * GemmSize * GemmSize * GemmSize * GemmIterations;
        return new GemmResult(threads, GemmSize, flops / bestBinding / 1e9, flops / bestNative / 1e9);
    }

    private SmallOpResult MeasureSmallOp()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        var bestBinding = double.MaxValue;
        var bestNative = double.MaxValue;
        for (var r = 0; r < Repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < SmallOpIterations; i++)
            {
                using var c = a.Add(b).DetachFromDisposeScope();
            }

            bestBinding = Math.Min(bestBinding, watch.Elapsed.TotalSeconds);
            bestNative = Math.Min(bestNative, NativeBenchmarks.SmallOp(SmallOpIterations));
        }

        return new SmallOpResult(bestBinding / SmallOpIterations * 1e9, bestNative / SmallOpIterations * 1e9);
    }
}

/// <summary>GEMM throughput through the binding and inside the shim.</summary>
internal sealed record GemmResult(int Threads, long Size, double BindingGflops, double NativeGflops)
{
    /// <summary>Binding throughput ÷ native throughput (goal ≥ 0.97).</summary>
    public double Ratio => BindingGflops / NativeGflops;
}

/// <summary>Nanoseconds per one-element add, through the binding and inside the shim.</summary>
internal sealed record SmallOpResult(double BindingNanoseconds, double NativeNanoseconds)
{
    /// <summary>What the binding adds per call: P/Invoke, the handle, the Tensor object, disposal.</summary>
    public double OverheadNanoseconds => BindingNanoseconds - NativeNanoseconds;
}

/// <summary>The figures of one <c>sora bench binding</c> run.</summary>
internal sealed record BindingBenchmarkReport(string TorchVersion, string BlasLibrary, IReadOnlyList<GemmResult> Gemm, SmallOpResult SmallOp);
