using Sora.Torch.Native;

namespace Sora.Torch;

public sealed partial class Tensor
{
    /// <summary>Sum over dims (all when none given).</summary>
    public unsafe Tensor Sum(ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_sum(Handle, d, dims.Length, keepDim ? 1 : 0));
        }
    }

    public Tensor Sum(long dim, bool keepDim = false) => Sum([dim], keepDim);

    public unsafe Tensor Mean(ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_mean(Handle, d, dims.Length, keepDim ? 1 : 0));
        }
    }

    public Tensor Mean(long dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Variance over dims (all when none given); unbiased divides by n−1.</summary>
    public unsafe Tensor Var(ReadOnlySpan<long> dims = default, bool unbiased = true, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_var(Handle, d, dims.Length, unbiased ? 1 : 0, keepDim ? 1 : 0));
        }
    }

    /// <summary>Maximum over dims (all when none given).</summary>
    public unsafe Tensor Amax(ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_amax(Handle, d, dims.Length, keepDim ? 1 : 0));
        }
    }

    public unsafe Tensor Amin(ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_amin(Handle, d, dims.Length, keepDim ? 1 : 0));
        }
    }

    /// <summary>Largest element.</summary>
    public Tensor Max() => Amax();

    /// <summary>Smallest element.</summary>
    public Tensor Min() => Amin();

    /// <summary>Largest values along a dim and where they are.</summary>
    public unsafe (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false)
    {
        IntPtr values, indices;
        NativeError.Check(NativeMethods.sora_max_dim(Handle, dim, keepDim ? 1 : 0, &values, &indices));
        return (new Tensor(values), new Tensor(indices));
    }

    public unsafe (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false)
    {
        IntPtr values, indices;
        NativeError.Check(NativeMethods.sora_min_dim(Handle, dim, keepDim ? 1 : 0, &values, &indices));
        return (new Tensor(values), new Tensor(indices));
    }

    /// <summary>Index of the largest element along dim, or over the flattened tensor when dim is null.</summary>
    public Tensor ArgMax(long? dim = null, bool keepDim = false) =>
        new(NativeMethods.sora_argmax(Handle, dim ?? 0, dim.HasValue ? 1 : 0, keepDim ? 1 : 0));

    public Tensor ArgMin(long? dim = null, bool keepDim = false) =>
        new(NativeMethods.sora_argmin(Handle, dim ?? 0, dim.HasValue ? 1 : 0, keepDim ? 1 : 0));

    /// <summary>p-norm over dims (all when none given).</summary>
    public unsafe Tensor Norm(double p = 2, ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_norm(Handle, p, d, dims.Length, keepDim ? 1 : 0));
        }
    }

    public unsafe Tensor LogSumExp(ReadOnlySpan<long> dims = default, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_logsumexp(Handle, d, dims.Length, keepDim ? 1 : 0));
        }
    }
}
