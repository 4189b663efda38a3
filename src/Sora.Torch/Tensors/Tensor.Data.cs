using Sora.Torch.Native;

namespace Sora.Torch;

public sealed partial class Tensor
{
    /// <summary>Copies the elements (row-major, any layout or device) into <paramref name="destination"/>.</summary>
    public unsafe void CopyTo<T>(Span<T> destination)
        where T : unmanaged
    {
        CheckElementType<T>();
        var count = NumElements;
        if (destination.Length != count)
        {
            throw new ArgumentException($"destination holds {destination.Length} elements but the tensor has {count}", nameof(destination));
        }

        fixed (T* p = destination)
        {
            NativeError.Check(NativeMethods.sora_tensor_copy_to(Handle, p, count * sizeof(T)));
        }
    }

    /// <summary>Copies the raw element bytes (row-major, native little-endian) of any dtype into <paramref name="destination"/>.</summary>
    public unsafe void CopyBytesTo(Span<byte> destination)
    {
        var count = ByteCount;
        if (destination.Length != count)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes but the tensor has {count}", nameof(destination));
        }

        fixed (byte* p = destination)
        {
            NativeError.Check(NativeMethods.sora_tensor_copy_to(Handle, p, count));
        }
    }

    /// <summary>A managed copy of the elements, row-major.</summary>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        var result = new T[NumElements];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>
    /// A zero-copy read-only view of a contiguous CPU tensor's elements. The view is valid only
    /// while this tensor is alive and not resized; copy it if it must outlive the tensor.
    /// </summary>
    public unsafe ReadOnlySpan<T> AsReadOnlySpan<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        CheckZeroCopy();
        var count = NumElements;
        return count == 0 ? ReadOnlySpan<T>.Empty : new ReadOnlySpan<T>(DataPointer(), checked((int)count));
    }

    /// <summary>
    /// A zero-copy writable view of <paramref name="length"/> bytes of a contiguous CPU tensor's data from byte
    /// <paramref name="byteOffset"/> (a range, so tensors over 2 GiB can be filled piece by piece), e.g. to read a
    /// file straight into a new tensor. Valid only while this tensor is alive and not resized; writes through it are
    /// invisible to autograd, so fill only tensors nothing has used yet.
    /// </summary>
    public unsafe Span<byte> AsWritableBytes(long byteOffset, int length)
    {
        CheckZeroCopy();
        var total = ByteCount;
        if (byteOffset < 0 || length < 0 || byteOffset > total - length)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes [{byteOffset}, {byteOffset + length}) are outside the tensor's {total} bytes");
        }

        return length == 0 ? Span<byte>.Empty : new Span<byte>((byte*)DataPointer() + byteOffset, length);
    }

    // A zero-copy view reads the tensor's memory in place: it must be host memory laid out in order.
    private void CheckZeroCopy()
    {
        if (Device.Type != DeviceType.Cpu)
        {
            throw new InvalidOperationException($"a zero-copy view needs a CPU tensor, but this one is on {Device}");
        }

        if (!IsContiguous)
        {
            throw new InvalidOperationException("a zero-copy view needs a contiguous tensor; call Contiguous() first");
        }
    }

    private unsafe void* DataPointer()
    {
        var data = NativeMethods.sora_tensor_data_ptr(Handle);
        return data != null ? data : throw NativeError.Last();
    }

    /// <summary>Overwrites this tensor's elements with <paramref name="source"/> (same element count).</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source)
        where T : unmanaged
    {
        using var staged = Tensor.FromSpan(source, Shape).DetachFromDisposeScope();
        Copy_(staged);
    }

    /// <summary>The value of a one-element tensor.</summary>
    public unsafe double ItemDouble()
    {
        double value;
        NativeError.Check(NativeMethods.sora_tensor_item_double(Handle, &value));
        return value;
    }

    /// <summary>The value of a one-element integral tensor.</summary>
    public unsafe long ItemLong()
    {
        long value;
        NativeError.Check(NativeMethods.sora_tensor_item_int64(Handle, &value));
        return value;
    }

    /// <summary>The value of a one-element tensor as a float.</summary>
    public float ItemFloat() => (float)ItemDouble();

    private void CheckElementType<T>()
        where T : unmanaged
    {
        var expected = ScalarTypes.Of<T>();
        var actual = DType;
        if (actual != expected)
        {
            throw new InvalidOperationException($"tensor holds {actual.Name()} but {typeof(T).Name} ({expected.Name()}) was requested; convert with To(ScalarType.{expected})");
        }
    }
}
