using System.Runtime.InteropServices;
using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>
/// A libtorch tensor. The native tensor is owned by a SafeHandle and released on
/// <see cref="Dispose"/>, by the enclosing <see cref="DisposeScope"/>, or (as a last resort) by the finalizer.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly TensorHandle _handle;
    private long[]? _shape;

    internal Tensor(IntPtr handle)
        : this(handle, attachToScope: true)
    {
    }

    /// <param name="handle">A handle the shim returned; zero means the call failed.</param>
    /// <param name="attachToScope">False for tensors handed to managed callbacks, which the callback's caller disposes.</param>
    internal Tensor(IntPtr handle, bool attachToScope)
    {
        _handle = new TensorHandle(NativeError.Check(handle));
        if (attachToScope)
        {
            DisposeScope.Current?.Attach(this);
        }
    }

    /// <summary>The scope that will dispose this tensor, if any.</summary>
    internal DisposeScope? Scope { get; set; }

    /// <summary>The native handle, for P/Invoke; throws if the tensor was disposed.</summary>
    internal TensorHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(Tensor), "the tensor was disposed") : _handle;

    internal IntPtr RawHandle => Handle.DangerousGetHandle();

    public bool IsDisposed => _handle.IsClosed;

    /// <summary>Native tensor handles alive in this process (created and not yet released): a leak detector.</summary>
    public static long LiveHandleCount => NativeMethods.sora_tensor_live_count();

    /// <summary>Sizes of each dimension (a copy the caller may change).</summary>
    public unsafe long[] Shape
    {
        get
        {
            // Handle throws once the tensor is disposed, even when the shape is cached.
            var handle = Handle;
            if (_shape is { } cached)
            {
                return (long[])cached.Clone();
            }

            var ndim = NativeError.Check(NativeMethods.sora_tensor_ndim(handle));
            var shape = new long[ndim];
            fixed (long* p = shape)
            {
                NativeError.Check(NativeMethods.sora_tensor_shape(handle, p, ndim));
            }

            _shape = shape;
            return (long[])shape.Clone();
        }
    }

    public int Dim => Shape.Length;

    /// <summary>Size of one dimension; negative dims count from the end.</summary>
    public long Size(long dim) => Shape[NormalizeDim(dim)];

    public unsafe long[] Strides
    {
        get
        {
            var ndim = NativeError.Check(NativeMethods.sora_tensor_ndim(Handle));
            var strides = new long[ndim];
            fixed (long* p = strides)
            {
                NativeError.Check(NativeMethods.sora_tensor_strides(Handle, p, ndim));
            }

            return strides;
        }
    }

    public long NumElements => NativeError.Check(NativeMethods.sora_tensor_numel(Handle));

    public ScalarType DType => (ScalarType)NativeError.Check(NativeMethods.sora_tensor_dtype(Handle));

    public Device Device
    {
        get
        {
            var type = (DeviceType)NativeError.Check(NativeMethods.sora_tensor_device_type(Handle));
            return type == DeviceType.Cpu ? Device.Cpu : Device.Cuda(NativeMethods.sora_tensor_device_index(Handle));
        }
    }

    public bool IsContiguous => NativeError.Check(NativeMethods.sora_tensor_is_contiguous(Handle)) != 0;

    public long StorageOffset => NativeError.Check(NativeMethods.sora_tensor_storage_offset(Handle));

    /// <summary>Bytes of element data (NumElements × element size).</summary>
    public long ByteCount => NumElements * DType.ElementSize();

    /// <summary>True when both tensors view the same storage.</summary>
    public bool SharesStorageWith(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return NativeMethods.sora_tensor_storage_id(Handle) == NativeMethods.sora_tensor_storage_id(other.Handle);
    }

    /// <summary>Releases the native tensor now. Safe to call twice.</summary>
    public void Dispose()
    {
        Scope?.Forget(this);
        _handle.Dispose();
    }

    /// <summary>Removes the tensor from its dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope?.Forget(this);
        return this;
    }

    /// <summary>Hands the tensor to the scope enclosing its current one.</summary>
    public Tensor MoveToOuterDisposeScope() => Scope is { } scope ? scope.MoveToOuter(this) : this;

    /// <summary>A second handle to the same tensor (same storage and autograd identity), owned separately.</summary>
    public Tensor Alias() => new(NativeMethods.sora_tensor_alias(Handle));

    /// <summary>torch's printed form, values included.</summary>
    public unsafe string ToDataString()
    {
        var handle = Handle;
        return NativeError.ReadString((buf, capacity) => NativeMethods.sora_tensor_to_string(handle, buf, capacity));
    }

    public override string ToString() =>
        IsDisposed ? "Tensor(disposed)" : $"Tensor[{string.Join(", ", Shape)}] {DType.Name()} {Device}";

    internal int NormalizeDim(long dim)
    {
        var n = Shape.Length;
        var d = (int)(dim < 0 ? dim + n : dim);
        if (d < 0 || d >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"dimension out of range for a tensor of {n} dims");
        }

        return d;
    }

    /// <summary>Called after an op that changes this tensor's metadata in place.</summary>
    internal void InvalidateMetadata() => _shape = null;
}
