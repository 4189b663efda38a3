using System.Diagnostics;

namespace Sora.Torch;

/// <summary>
/// A device's matrix-product rate, measured: what MFU is reported against. The densest kernel the device runs, timed
/// through libtorch on the device itself, not a datasheet figure (TF32 stays off, libtorch's default, so fp32 is fp32).
/// </summary>
public static class GemmPeak
{
    /// <summary>The matrix side that fills a GPU (an 8192³ product takes milliseconds there).</summary>
    public const long CudaSide = 8192;

    /// <summary>FLOP/s of the best of <paramref name="runs"/> timed runs of four n×n×n products in <paramref name="dtype"/> on <paramref name="device"/>, after a warm-up product.</summary>
    public static double Measure(Device device, ScalarType dtype, long n, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        const int products = 4;
        using var scope = Tensor.NewDisposeScope();
        // Constant operands: the rate does not depend on the values, and no generator's stream moves.
        var a = Tensor.Full([n, n], 0.5, dtype, device);
        var b = Tensor.Full([n, n], 0.25, dtype, device);
        a.MatMul(b).Dispose();
        var best = double.MaxValue;
        for (var run = 0; run < runs; run++)
        {
            TorchRuntime.Synchronize(device);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < products; i++)
            {
                a.MatMul(b).Dispose();
            }

            TorchRuntime.Synchronize(device);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return 2.0 * n * n * n * products / best;
    }
}
