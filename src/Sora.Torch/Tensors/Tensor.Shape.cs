using Sora.Torch.Native;

namespace Sora.Torch;

public sealed unsafe partial class Tensor
{
    public unsafe Tensor Reshape(params ReadOnlySpan<long> shape) => WithDims(shape, &NativeMethods.sora_reshape);

    /// <summary>A view with another shape; fails when the layout does not allow one (use Reshape).</summary>
    public unsafe Tensor View(params ReadOnlySpan<long> shape) => WithDims(shape, &NativeMethods.sora_view);

    public unsafe Tensor Permute(params ReadOnlySpan<long> dims) => WithDims(dims, &NativeMethods.sora_permute);

    public Tensor Transpose(long dim0, long dim1) => new(NativeMethods.sora_transpose(Handle, dim0, dim1));

    /// <summary>Swaps the last two dims.</summary>
    public Tensor T() => Transpose(-2, -1);

    public Tensor Contiguous() => new(NativeMethods.sora_tensor_contiguous(Handle));

    /// <summary>A view of <paramref name="length"/> entries of <paramref name="dim"/> from <paramref name="start"/>.</summary>
    public Tensor Narrow(long dim, long start, long length) => new(NativeMethods.sora_narrow(Handle, dim, start, length));

    /// <summary>A view of one index of <paramref name="dim"/>, that dim removed.</summary>
    public Tensor Select(long dim, long index) => new(NativeMethods.sora_select(Handle, dim, index));

    public Tensor IndexSelect(long dim, Tensor index) => new(NativeMethods.sora_index_select(Handle, dim, index.Handle));

    public Tensor Gather(long dim, Tensor index) => new(NativeMethods.sora_gather(Handle, dim, index.Handle));

    /// <summary>A copy with src's values written at index along dim.</summary>
    public Tensor Scatter(long dim, Tensor index, Tensor source) => new(NativeMethods.sora_scatter(Handle, dim, index.Handle, source.Handle));

    public Tensor ScatterAdd(long dim, Tensor index, Tensor source) => new(NativeMethods.sora_scatter_add(Handle, dim, index.Handle, source.Handle));

    public unsafe Tensor[] Chunk(long chunks, long dim = 0)
    {
        // At most min(chunks, size of dim) pieces come back: size the buffer by that, not by chunks alone.
        var shape = Shape;
        var d = dim < 0 ? dim + shape.Length : dim;
        var extent = d >= 0 && d < shape.Length ? shape[d] : 1;
        var output = new IntPtr[Math.Clamp(chunks, 1, Math.Max(extent, 1))];
        fixed (IntPtr* o = output)
        {
            var count = NativeError.Check(NativeMethods.sora_chunk(Handle, chunks, dim, o, output.Length));
            return Wrap(output, count);
        }
    }

    /// <summary>Pieces of the given sizes along dim.</summary>
    public unsafe Tensor[] Split(ReadOnlySpan<long> sizes, long dim = 0)
    {
        var output = new IntPtr[sizes.Length];
        fixed (long* s = sizes)
        fixed (IntPtr* o = output)
        {
            var count = NativeError.Check(NativeMethods.sora_split(Handle, s, sizes.Length, dim, o, output.Length));
            return Wrap(output, count);
        }
    }

    public Tensor Flatten(long startDim = 0, long endDim = -1) => new(NativeMethods.sora_flatten(Handle, startDim, endDim));

    /// <summary>Splits one dim into several.</summary>
    public unsafe Tensor Unflatten(long dim, params ReadOnlySpan<long> sizes)
    {
        fixed (long* s = sizes)
        {
            return new(NativeMethods.sora_unflatten(Handle, dim, s, sizes.Length));
        }
    }

    /// <summary>A broadcast view (-1 keeps a size).</summary>
    public unsafe Tensor Expand(params ReadOnlySpan<long> shape) => WithDims(shape, &NativeMethods.sora_expand);

    public unsafe Tensor Repeat(params ReadOnlySpan<long> repeats) => WithDims(repeats, &NativeMethods.sora_repeat);

    /// <summary>Pads with (left, right) pairs starting from the last dim, as torch.nn.functional.pad.</summary>
    public unsafe Tensor Pad(ReadOnlySpan<long> pad, PaddingMode mode = PaddingMode.Constant, double value = 0)
    {
        fixed (long* p = pad)
        {
            return new(NativeMethods.sora_pad(Handle, p, pad.Length, (int)mode, value));
        }
    }

    public Tensor Squeeze(long dim) => new(NativeMethods.sora_squeeze(Handle, dim));

    public Tensor Unsqueeze(long dim) => new(NativeMethods.sora_unsqueeze(Handle, dim));

    /// <summary>Lower triangle (elements above the diagonal zeroed).</summary>
    public Tensor Tril(long diagonal = 0) => new(NativeMethods.sora_tril(Handle, diagonal));

    public Tensor Triu(long diagonal = 0) => new(NativeMethods.sora_triu(Handle, diagonal));

    public unsafe Tensor Flip(params ReadOnlySpan<long> dims) => WithDims(dims, &NativeMethods.sora_flip);

    public unsafe Tensor Roll(ReadOnlySpan<long> shifts, ReadOnlySpan<long> dims)
    {
        fixed (long* s = shifts)
        fixed (long* d = dims)
        {
            return new(NativeMethods.sora_roll(Handle, s, shifts.Length, d, dims.Length));
        }
    }

    public Tensor Cumsum(long dim) => new(NativeMethods.sora_cumsum(Handle, dim));

    private Tensor WithDims(ReadOnlySpan<long> values, delegate*<TensorHandle, long*, int, IntPtr> op)
    {
        fixed (long* v = values)
        {
            return new(op(Handle, v, values.Length));
        }
    }

    internal static Tensor[] Wrap(IntPtr[] handles, int count)
    {
        var result = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new Tensor(handles[i]);
        }

        return result;
    }

    /// <summary>Concatenates along an existing dim.</summary>
    public static Tensor Cat(ReadOnlySpan<Tensor> tensors, long dim = 0) => Combine(tensors, dim, &NativeMethods.sora_cat);

    /// <summary>Stacks along a new dim.</summary>
    public static Tensor Stack(ReadOnlySpan<Tensor> tensors, long dim = 0) => Combine(tensors, dim, &NativeMethods.sora_stack);

    private static Tensor Combine(ReadOnlySpan<Tensor> tensors, long dim, delegate*<IntPtr*, int, long, IntPtr> op)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles)
        {
            var result = new Tensor(op(h, handles.Length, dim));
            KeepAlive(tensors);
            return result;
        }
    }

    /// <summary>A block-diagonal matrix from 2-D blocks (for example packed-sequence attention masks).</summary>
    public static Tensor BlockDiag(ReadOnlySpan<Tensor> tensors)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles)
        {
            var result = new Tensor(NativeMethods.sora_block_diag(h, handles.Length));
            KeepAlive(tensors);
            return result;
        }
    }

    /// <summary>Keeps tensors (and so their native handles) reachable until after a call that used raw handles.</summary>
    internal static void KeepAlive(ReadOnlySpan<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            GC.KeepAlive(tensor);
        }
    }
}

/// <summary>How <see cref="Tensor.Pad"/> fills the border.</summary>
public enum PaddingMode
{
    Constant = 0,
    Reflect = 1,
    Replicate = 2,
    Circular = 3,
}
