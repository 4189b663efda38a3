using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>Baselines measured entirely inside the native shim, to compare the binding against.</summary>
public static unsafe class NativeBenchmarks
{
    /// <summary>Seconds for <paramref name="iterations"/> n×n×n fp32 matrix products done in C++.</summary>
    public static double Gemm(long n, int iterations)
    {
        double seconds;
        NativeError.Check(NativeMethods.sora_bench_gemm(n, iterations, &seconds));
        return seconds;
    }

    /// <summary>Seconds for <paramref name="iterations"/> one-element additions done in C++.</summary>
    public static double SmallOp(int iterations)
    {
        double seconds;
        NativeError.Check(NativeMethods.sora_bench_small_op(iterations, &seconds));
        return seconds;
    }
}
