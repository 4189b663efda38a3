using System.Diagnostics;
using Sora.Torch;

namespace Sora.Cli.Bench;

/// <summary>
/// Measures what the C# binding costs against the same work done inside the native shim in the same
/// run: fp32 GEMM throughput (goal: binding ≥ 0.97 × native) and the per-call overhead of a small op.
/// Runs alternate between binding and native; the ratio is the median of the paired per-run ratios, so
/// drift in the machine's speed (a shared VM's steal time, frequency changes) hits both sides of each pair.
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

        var binding = new double[Repeats];
        var native = new double[Repeats];
        for (var r = 0; r < Repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < GemmIterations; i++)
            {
                Tensor.MmOut(output, a, b);
            }

            binding[r] = watch.Elapsed.TotalSeconds;
            native[r] = NativeBenchmarks.Gemm(GemmSize, GemmIterations);
        }

        var flops = 2.0 * GemmSize * GemmSize * GemmSize * GemmIterations;
        return new GemmResult(threads, GemmSize, flops / binding.Min() / 1e9, flops / native.Min() / 1e9, PairedRatio(native, binding));
    }

    private SmallOpResult MeasureSmallOp()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        var binding = new double[Repeats];
        var native = new double[Repeats];
        for (var r = 0; r < Repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < SmallOpIterations; i++)
            {
                using var c = a.Add(b).DetachFromDisposeScope();
            }

            binding[r] = watch.Elapsed.TotalSeconds;
            native[r] = NativeBenchmarks.SmallOp(SmallOpIterations);
        }

        return new SmallOpResult(binding.Min() / SmallOpIterations * 1e9, native.Min() / SmallOpIterations * 1e9);
    }

    /// <summary>Median over runs of native time ÷ binding time (= binding throughput ÷ native throughput).</summary>
    internal static double PairedRatio(IReadOnlyList<double> nativeSeconds, IReadOnlyList<double> bindingSeconds)
    {
        var ratios = nativeSeconds.Zip(bindingSeconds, (n, b) => n / b).Order().ToArray();
        var mid = ratios.Length / 2;
        return ratios.Length % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
    }
}

/// <summary>GEMM throughput through the binding and inside the shim.</summary>
/// <param name="Threads">libtorch and OpenBLAS threads.</param>
/// <param name="Size">n of the n×n×n product.</param>
/// <param name="BindingGflops">Best run through the binding.</param>
/// <param name="NativeGflops">Best run inside the shim.</param>
/// <param name="Ratio">Median of paired per-run binding ÷ native throughput (goal ≥ 0.97).</param>
internal sealed record GemmResult(int Threads, long Size, double BindingGflops, double NativeGflops, double Ratio);

/// <summary>Nanoseconds per one-element add, through the binding and inside the shim.</summary>
internal sealed record SmallOpResult(double BindingNanoseconds, double NativeNanoseconds)
{
    /// <summary>What the binding adds per call: P/Invoke, the handle, the Tensor object, disposal.</summary>
    public double OverheadNanoseconds => BindingNanoseconds - NativeNanoseconds;
}

/// <summary>The figures of one <c>sora bench binding</c> run.</summary>
internal sealed record BindingBenchmarkReport(string TorchVersion, string BlasLibrary, IReadOnlyList<GemmResult> Gemm, SmallOpResult SmallOp);
