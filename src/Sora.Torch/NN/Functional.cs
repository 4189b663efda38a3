using Sora.Torch.Native;

namespace Sora.Torch.NN;

/// <summary>Stateless neural-network functions, as torch.nn.functional.</summary>
public static unsafe class Functional
{
    /// <summary>input @ weightᵀ + bias.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        var output = new Tensor(NativeMethods.sora_linear(input.Handle, weight.Handle, Optional(bias)));
        FlopCounter.Linear(output, weight);
        return output;
    }

    /// <summary>Normalises over the trailing <paramref name="normalizedShape"/> dims.</summary>
    public static Tensor LayerNorm(Tensor input, ReadOnlySpan<long> normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        fixed (long* s = normalizedShape)
        {
            return new(NativeMethods.sora_layer_norm(input.Handle, s, normalizedShape.Length, Optional(weight), Optional(bias), eps));
        }
    }

    /// <summary>Normalises channels (dim 1) in <paramref name="groups"/> groups.</summary>
    public static Tensor GroupNorm(Tensor input, long groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        new(NativeMethods.sora_group_norm(input.Handle, groups, Optional(weight), Optional(bias), eps));

    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, (long H, long W)? stride = null, (long H, long W)? padding = null,
        (long H, long W)? dilation = null, long groups = 1)
    {
        var s = stride ?? (1, 1);
        var p = padding ?? (0, 0);
        var d = dilation ?? (1, 1);
        long* strides = stackalloc long[] { s.H, s.W };
        long* paddings = stackalloc long[] { p.H, p.W };
        long* dilations = stackalloc long[] { d.H, d.W };
        var output = new Tensor(NativeMethods.sora_conv2d(input.Handle, weight.Handle, Optional(bias), strides, paddings, dilations, groups));
        FlopCounter.Convolution(output, weight);
        return output;
    }

    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias = null, (long T, long H, long W)? stride = null,
        (long T, long H, long W)? padding = null, (long T, long H, long W)? dilation = null, long groups = 1)
    {
        var s = stride ?? (1, 1, 1);
        var p = padding ?? (0, 0, 0);
        var d = dilation ?? (1, 1, 1);
        long* strides = stackalloc long[] { s.T, s.H, s.W };
        long* paddings = stackalloc long[] { p.T, p.H, p.W };
        long* dilations = stackalloc long[] { d.T, d.H, d.W };
        var output = new Tensor(NativeMethods.sora_conv3d(input.Handle, weight.Handle, Optional(bias), strides, paddings, dilations, groups));
        FlopCounter.Convolution(output, weight);
        return output;
    }

    /// <summary>Transposed 3-D convolution; weight is (in, out/groups, kT, kH, kW).</summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias = null, (long T, long H, long W)? stride = null,
        (long T, long H, long W)? padding = null, (long T, long H, long W)? outputPadding = null, long groups = 1,
        (long T, long H, long W)? dilation = null)
    {
        var s = stride ?? (1, 1, 1);
        var p = padding ?? (0, 0, 0);
        var o = outputPadding ?? (0, 0, 0);
        var d = dilation ?? (1, 1, 1);
        long* strides = stackalloc long[] { s.T, s.H, s.W };
        long* paddings = stackalloc long[] { p.T, p.H, p.W };
        long* outputPaddings = stackalloc long[] { o.T, o.H, o.W };
        long* dilations = stackalloc long[] { d.T, d.H, d.W };
        FlopCounter.TransposedConvolution(input, weight);
        return new(NativeMethods.sora_conv_transpose3d(input.Handle, weight.Handle, Optional(bias), strides, paddings, outputPaddings, groups, dilations));
    }

    /// <summary>Resizes the spatial dims (everything after N, C) to <paramref name="size"/>.</summary>
    public static Tensor Interpolate(Tensor input, ReadOnlySpan<long> size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        fixed (long* s = size)
        {
            return new(NativeMethods.sora_interpolate(input.Handle, s, size.Length, (int)mode, alignCorners ? 1 : 0));
        }
    }

    /// <summary>
    /// Resizes the spatial dims by scale factors: output size = floor(input size × factor), then sampled as
    /// for that size. For integer factors this equals torch's scale_factor mode; for other factors torch's
    /// nearest mode maps indices by 1/factor instead and can pick different source pixels.
    /// </summary>
    public static Tensor Interpolate(Tensor input, ReadOnlySpan<double> scaleFactors, InterpolationMode mode = InterpolationMode.Nearest,
        bool alignCorners = false)
    {
        var shape = input.Shape;
        if (scaleFactors.Length != shape.Length - 2)
        {
            throw new ArgumentException($"{scaleFactors.Length} scale factors given for a tensor with {shape.Length - 2} spatial dims", nameof(scaleFactors));
        }

        Span<long> size = stackalloc long[scaleFactors.Length];
        for (var i = 0; i < size.Length; i++)
        {
            size[i] = (long)Math.Floor(shape[i + 2] * scaleFactors[i]);
        }

        return Interpolate(input, size, mode, alignCorners);
    }

    /// <summary>Zeroes elements with probability p and scales the rest by 1/(1-p), when training.</summary>
    public static Tensor Dropout(Tensor input, double p, bool training) => new(NativeMethods.sora_dropout(input.Handle, p, training ? 1 : 0));

    /// <summary>Rows of <paramref name="weight"/> selected by integer <paramref name="indices"/>.</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight) => new(NativeMethods.sora_embedding(weight.Handle, indices.Handle));

    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        new(NativeMethods.sora_mse_loss(input.Handle, target.Handle, (int)reduction));

    public static Tensor Gelu(Tensor input, bool tanhApproximation = false) => input.Gelu(tanhApproximation);

    public static Tensor Silu(Tensor input) => input.Silu();

    public static Tensor Softmax(Tensor input, long dim) => input.Softmax(dim);

    public static Tensor LogSoftmax(Tensor input, long dim) => input.LogSoftmax(dim);

    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v over (..., L, D) queries and (..., S, D) keys and values. A bool mask
    /// marks the pairs that may attend (true); a float mask is added to the scores. scale defaults to 1/√D.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, double? scale = null) =>
        new(NativeMethods.sora_attention(query.Handle, key.Handle, value.Handle, Optional(mask), scale ?? (1.0 / Math.Sqrt(query.Size(-1)))));

    private static TensorHandle Optional(Tensor? tensor) => tensor?.Handle ?? TensorHandle.Null;
}

/// <summary>How a loss is reduced over elements.</summary>
public enum Reduction
{
    None = 0,
    Mean = 1,
    Sum = 2,
}

/// <summary>Resampling used by <see cref="Functional.Interpolate(Tensor, ReadOnlySpan{long}, InterpolationMode, bool)"/>.</summary>
public enum InterpolationMode
{
    Nearest = 0,

    /// <summary>Linear, bilinear or trilinear by the number of spatial dims.</summary>
    Linear = 1,
}
