namespace Sora.Torch.Tests.Support;

/// <summary>
/// Small test inputs. Random ones come from a seeded managed generator, not libtorch's global one,
/// so they are the same whatever other tests run beside them.
/// </summary>
internal static class TestData
{
    /// <summary>float64 values uniform in [low, high).</summary>
    public static Tensor Uniform(long[] shape, int seed, double low = -1, double high = 1)
    {
        var random = new Random(seed);
        var values = new double[shape.Aggregate(1L, (product, size) => product * size)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = low + ((high - low) * random.NextDouble());
        }

        return Tensor.FromArray(values, shape);
    }

    /// <summary>float64 values in [0.5, 2): safe for log, sqrt, division and non-integer powers.</summary>
    public static Tensor Positive(long[] shape, int seed) => Uniform(shape, seed, 0.5, 2);

    public static Tensor Float64(double[] values, params long[] shape) => Tensor.FromArray(values, shape);

    public static Tensor Int64(long[] values, params long[] shape) => Tensor.FromArray(values, shape);

    public static Tensor Bool(bool[] values, params long[] shape) => Tensor.FromArray(values, shape);
}
