using Sora.Torch.Autograd;

namespace Sora.Torch.NN;

/// <summary>Parameter initialisers, as torch.nn.init. All fill in place without recording gradients.</summary>
public static class Init
{
    public static Tensor Uniform_(Tensor tensor, double from = 0, double to = 1)
    {
        using var noGrad = GradMode.Disable();
        return tensor.Uniform_(from, to);
    }

    public static Tensor Normal_(Tensor tensor, double mean = 0, double std = 1)
    {
        using var noGrad = GradMode.Disable();
        return tensor.Normal_(mean, std);
    }

    public static Tensor Constant_(Tensor tensor, double value)
    {
        using var noGrad = GradMode.Disable();
        return tensor.Fill_(value);
    }

    public static Tensor Zeros_(Tensor tensor) => Constant_(tensor, 0);

    public static Tensor Ones_(Tensor tensor) => Constant_(tensor, 1);

    /// <summary>Glorot uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform_(Tensor tensor, double gain = 1)
    {
        var (fanIn, fanOut) = Fans(tensor);
        var bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform_(tensor, -bound, bound);
    }

    public static Tensor XavierNormal_(Tensor tensor, double gain = 1)
    {
        var (fanIn, fanOut) = Fans(tensor);
        return Normal_(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)));
    }

    /// <summary>He uniform for a leaky-ReLU slope <paramref name="a"/> (a = √5 gives torch's Linear and Conv default).</summary>
    public static Tensor KaimingUniform_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn)
    {
        var fan = Fan(tensor, mode);
        var gain = Math.Sqrt(2.0 / (1 + (a * a)));
        var bound = Math.Sqrt(3.0) * gain / Math.Sqrt(fan);
        return Uniform_(tensor, -bound, bound);
    }

    public static Tensor KaimingNormal_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn)
    {
        var fan = Fan(tensor, mode);
        var gain = Math.Sqrt(2.0 / (1 + (a * a)));
        return Normal_(tensor, 0, gain / Math.Sqrt(fan));
    }

    /// <summary>Normal(mean, std) truncated to [a, b], by inverse-CDF sampling as torch.nn.init.trunc_normal_.</summary>
    public static Tensor TruncNormal_(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2)
    {
        static double NormCdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;
        var low = NormCdf((a - mean) / std);
        var high = NormCdf((b - mean) / std);
        using var noGrad = GradMode.Disable();
        tensor.Uniform_((2 * low) - 1, (2 * high) - 1);
        tensor.Erfinv_();
        tensor.Mul_(std * Math.Sqrt(2)).Add_(mean);
        return tensor.Clamp_(a, b);
    }

    /// <summary>(fan_in, fan_out) of a weight shaped (out, in, *kernel).</summary>
    public static (long FanIn, long FanOut) Fans(Tensor tensor)
    {
        var shape = tensor.Shape;
        if (shape.Length < 2)
        {
            throw new ArgumentException($"fan in and fan out need at least 2 dims, the tensor has shape [{string.Join(", ", shape)}]", nameof(tensor));
        }

        long receptive = 1;
        for (var i = 2; i < shape.Length; i++)
        {
            receptive *= shape[i];
        }

        return (shape[1] * receptive, shape[0] * receptive);
    }

    private static long Fan(Tensor tensor, FanMode mode)
    {
        var (fanIn, fanOut) = Fans(tensor);
        return mode == FanMode.FanIn ? fanIn : fanOut;
    }

    // The Chebyshev fit of erfc from Numerical Recipes (relative error below 1.2e-7): ample for truncation bounds.
    private static double Erf(double x)
    {
        var t = 1.0 / (1.0 + (0.5 * Math.Abs(x)));
        var y = 1 - (t * Math.Exp((-x * x) - 1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 +
            (t * (-0.18628806 + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))))));
        return x >= 0 ? y : -y;
    }
}

/// <summary>Which fan Kaiming initialisation preserves.</summary>
public enum FanMode
{
    FanIn,
    FanOut,
}
