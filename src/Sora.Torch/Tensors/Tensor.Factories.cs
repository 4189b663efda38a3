using Sora.Torch.Native;

namespace Sora.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Default element type for floating factories.</summary>
    public const ScalarType DefaultFloat = ScalarType.Float32;

    public static Tensor Empty(ReadOnlySpan<long> shape, ScalarType dtype = DefaultFloat, Device? device = null) =>
        Create(shape, dtype, device, &NativeMethods.sora_tensor_empty);

    /// <summary>
    /// Uninitialised CPU tensors, one per (shape, dtype), laid out in one memory mapping that starts on a 2 MiB
    /// boundary and is advised for transparent huge pages, so filling them faults in 2 MiB pages instead of 4 KiB
    /// ones (a checkpoint load of 356 tensors, 119 MB: about 80 ms of page faults otherwise). Each tensor is
    /// disposed on its own; the mapping is released with the last of them, so keep none of them for long (clone
    /// what you keep) unless you keep them all.
    /// </summary>
    public static Tensor[] EmptyShared(IReadOnlyList<(long[] Shape, ScalarType DType)> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (specs.Count == 0)
        {
            return [];
        }

        var shapes = specs.SelectMany(s => s.Shape).ToArray();
        var ndims = specs.Select(s => s.Shape.Length).ToArray();
        var dtypes = specs.Select(s => (int)s.DType).ToArray();
        var handles = new IntPtr[specs.Count];
        fixed (long* s = shapes)
        fixed (int* n = ndims)
        fixed (int* d = dtypes)
        fixed (IntPtr* h = handles)
        {
            NativeError.Check(NativeMethods.sora_tensor_empty_shared(specs.Count, s, n, d, h));
        }

        return handles.Select(h => new Tensor(h)).ToArray();
    }

    public static Tensor Zeros(ReadOnlySpan<long> shape, ScalarType dtype = DefaultFloat, Device? device = null) =>
        Create(shape, dtype, device, &NativeMethods.sora_tensor_zeros);

    public static Tensor Ones(ReadOnlySpan<long> shape, ScalarType dtype = DefaultFloat, Device? device = null) =>
        Create(shape, dtype, device, &NativeMethods.sora_tensor_ones);

    public static Tensor Full(ReadOnlySpan<long> shape, Scalar value, ScalarType dtype = DefaultFloat, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return new Tensor(NativeMethods.sora_tensor_full(s, shape.Length, value.ToNative(), (int)dtype, (int)d.Type, d.Index));
        }
    }

    /// <summary>Values from start (inclusive) to end (exclusive) by step.</summary>
    public static Tensor Arange(Scalar start, Scalar end, Scalar step, ScalarType dtype, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        return new Tensor(NativeMethods.sora_tensor_arange(start.ToNative(), end.ToNative(), step.ToNative(), (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>0, 1, ..., end-1 as int64.</summary>
    public static Tensor Arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) => Arange(0L, end, 1L, dtype, device);

    /// <summary>Standard normal samples from the default generator.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, ScalarType dtype = DefaultFloat, Device? device = null) =>
        Create(shape, dtype, device, &NativeMethods.sora_tensor_randn);

    /// <summary>Uniform samples in [0, 1) from the default generator.</summary>
    public static Tensor Rand(ReadOnlySpan<long> shape, ScalarType dtype = DefaultFloat, Device? device = null) =>
        Create(shape, dtype, device, &NativeMethods.sora_tensor_rand);

    /// <summary>Integers in [low, high) from the default generator.</summary>
    public static Tensor RandInt(long low, long high, ReadOnlySpan<long> shape, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return new Tensor(NativeMethods.sora_tensor_randint(low, high, s, shape.Length, (int)dtype, (int)d.Type, d.Index));
        }
    }

    /// <summary>A zero-dimensional tensor.</summary>
    public static Tensor FromScalar(Scalar value, ScalarType dtype = DefaultFloat, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        return new Tensor(NativeMethods.sora_tensor_scalar_tensor(value.ToNative(), (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>A new CPU tensor holding a copy of <paramref name="data"/> in the given shape.</summary>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        long count = 1;
        foreach (var size in shape)
        {
            count *= size;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"{data.Length} values cannot fill shape [{string.Join(", ", shape.ToArray())}] ({count} elements)", nameof(data));
        }

        fixed (T* p = data)
        fixed (long* s = shape)
        {
            return new Tensor(NativeMethods.sora_tensor_from_data(p, (long)data.Length * sizeof(T), s, shape.Length, (int)ScalarTypes.Of<T>()));
        }
    }

    /// <summary>A new CPU tensor of <paramref name="dtype"/> from raw row-major element bytes (for example read from a file).</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> data, ReadOnlySpan<long> shape, ScalarType dtype)
    {
        fixed (byte* p = data)
        fixed (long* s = shape)
        {
            return new Tensor(NativeMethods.sora_tensor_from_data(p, data.Length, s, shape.Length, (int)dtype));
        }
    }

    /// <summary>A one-dimensional CPU tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> data)
        where T : unmanaged => FromSpan(data, [data.Length]);

    /// <summary>Shorthand for <see cref="FromSpan{T}(ReadOnlySpan{T}, ReadOnlySpan{long})"/> over an array.</summary>
    public static Tensor FromArray<T>(T[] data, params long[] shape)
        where T : unmanaged => shape.Length == 0 ? FromSpan<T>(data) : FromSpan<T>(data, shape);

    /// <summary>Stops gradient recording on this thread until the result is disposed.</summary>
    public static Autograd.GradMode NoGrad() => Autograd.GradMode.Disable();

    /// <summary>Opens a dispose scope: tensors created until it is disposed are released with it.</summary>
    public static DisposeScope NewDisposeScope() => DisposeScope.Enter();

    private static Tensor Create(ReadOnlySpan<long> shape, ScalarType dtype, Device? device, delegate*<long*, int, int, int, int, IntPtr> factory)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return new Tensor(factory(s, shape.Length, (int)dtype, (int)d.Type, d.Index));
        }
    }

    internal static IntPtr[] Handles(ReadOnlySpan<Tensor> tensors)
    {
        var handles = new IntPtr[tensors.Length];
        for (var i = 0; i < tensors.Length; i++)
        {
            handles[i] = tensors[i].RawHandle;
        }

        return handles;
    }
}
