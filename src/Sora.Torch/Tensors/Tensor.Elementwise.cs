using Sora.Torch.Native;

namespace Sora.Torch;

public sealed partial class Tensor
{
    public Tensor Neg() => Unary(UnaryOp.Neg);
    public Tensor Abs() => Unary(UnaryOp.Abs);
    public Tensor Exp() => Unary(UnaryOp.Exp);
    public Tensor Log() => Unary(UnaryOp.Log);
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    public Tensor Sin() => Unary(UnaryOp.Sin);
    public Tensor Cos() => Unary(UnaryOp.Cos);
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    public Tensor Relu() => Unary(UnaryOp.Relu);
    public Tensor Silu() => Unary(UnaryOp.Silu);

    /// <summary>GELU, exact (erf) or with the tanh approximation.</summary>
    public Tensor Gelu(bool tanhApproximation = false) => Unary(tanhApproximation ? UnaryOp.GeluTanh : UnaryOp.Gelu);

    public Tensor Square() => Unary(UnaryOp.Square);
    public Tensor Sign() => Unary(UnaryOp.Sign);
    public Tensor Floor() => Unary(UnaryOp.Floor);
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    public Tensor Round() => Unary(UnaryOp.Round);
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);
    public Tensor Erf() => Unary(UnaryOp.Erf);
    public Tensor Erfinv() => Unary(UnaryOp.Erfinv);
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    public Tensor IsNan() => Unary(UnaryOp.IsNan);
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);

    public Tensor Neg_() => Unary_(UnaryOp.Neg);
    public Tensor Abs_() => Unary_(UnaryOp.Abs);
    public Tensor Exp_() => Unary_(UnaryOp.Exp);
    public Tensor Log_() => Unary_(UnaryOp.Log);
    public Tensor Sqrt_() => Unary_(UnaryOp.Sqrt);
    public Tensor Rsqrt_() => Unary_(UnaryOp.Rsqrt);
    public Tensor Sin_() => Unary_(UnaryOp.Sin);
    public Tensor Cos_() => Unary_(UnaryOp.Cos);
    public Tensor Tanh_() => Unary_(UnaryOp.Tanh);
    public Tensor Sigmoid_() => Unary_(UnaryOp.Sigmoid);
    public Tensor Relu_() => Unary_(UnaryOp.Relu);
    public Tensor Silu_() => Unary_(UnaryOp.Silu);
    public Tensor Square_() => Unary_(UnaryOp.Square);
    public Tensor Reciprocal_() => Unary_(UnaryOp.Reciprocal);
    public Tensor Erfinv_() => Unary_(UnaryOp.Erfinv);

    public Tensor Add(Tensor other) => Binary(other, BinaryOp.Add);
    public Tensor Sub(Tensor other) => Binary(other, BinaryOp.Sub);
    public Tensor Mul(Tensor other) => Binary(other, BinaryOp.Mul);
    public Tensor Div(Tensor other) => Binary(other, BinaryOp.Div);
    public Tensor Pow(Tensor exponent) => Binary(exponent, BinaryOp.Pow);
    public Tensor Maximum(Tensor other) => Binary(other, BinaryOp.Maximum);
    public Tensor Minimum(Tensor other) => Binary(other, BinaryOp.Minimum);
    public Tensor Remainder(Tensor other) => Binary(other, BinaryOp.Remainder);
    public Tensor FloorDivide(Tensor other) => Binary(other, BinaryOp.FloorDivide);
    public Tensor Atan2(Tensor other) => Binary(other, BinaryOp.Atan2);
    public Tensor Eq(Tensor other) => Binary(other, BinaryOp.Eq);
    public Tensor Ne(Tensor other) => Binary(other, BinaryOp.Ne);
    public Tensor Lt(Tensor other) => Binary(other, BinaryOp.Lt);
    public Tensor Le(Tensor other) => Binary(other, BinaryOp.Le);
    public Tensor Gt(Tensor other) => Binary(other, BinaryOp.Gt);
    public Tensor Ge(Tensor other) => Binary(other, BinaryOp.Ge);
    public Tensor LogicalAnd(Tensor other) => Binary(other, BinaryOp.LogicalAnd);
    public Tensor LogicalOr(Tensor other) => Binary(other, BinaryOp.LogicalOr);

    public Tensor Add(Scalar other) => BinaryScalar(other, BinaryOp.Add);
    public Tensor Sub(Scalar other) => BinaryScalar(other, BinaryOp.Sub);
    public Tensor Mul(Scalar other) => BinaryScalar(other, BinaryOp.Mul);
    public Tensor Div(Scalar other) => BinaryScalar(other, BinaryOp.Div);
    public Tensor Pow(Scalar exponent) => BinaryScalar(exponent, BinaryOp.Pow);
    public Tensor Maximum(Scalar other) => BinaryScalar(other, BinaryOp.Maximum);
    public Tensor Minimum(Scalar other) => BinaryScalar(other, BinaryOp.Minimum);
    public Tensor Remainder(Scalar other) => BinaryScalar(other, BinaryOp.Remainder);
    public Tensor FloorDivide(Scalar other) => BinaryScalar(other, BinaryOp.FloorDivide);
    public Tensor Eq(Scalar other) => BinaryScalar(other, BinaryOp.Eq);
    public Tensor Ne(Scalar other) => BinaryScalar(other, BinaryOp.Ne);
    public Tensor Lt(Scalar other) => BinaryScalar(other, BinaryOp.Lt);
    public Tensor Le(Scalar other) => BinaryScalar(other, BinaryOp.Le);
    public Tensor Gt(Scalar other) => BinaryScalar(other, BinaryOp.Gt);
    public Tensor Ge(Scalar other) => BinaryScalar(other, BinaryOp.Ge);

    /// <summary>scalar − this.</summary>
    public Tensor RSub(Scalar scalar) => BinaryScalar(scalar, BinaryOp.RSub);

    /// <summary>scalar ÷ this.</summary>
    public Tensor RDiv(Scalar scalar) => BinaryScalar(scalar, BinaryOp.RDiv);

    /// <summary>scalar raised to this.</summary>
    public Tensor RPow(Scalar scalar) => BinaryScalar(scalar, BinaryOp.RPow);

    public Tensor Add_(Tensor other) => Binary_(other, BinaryOp.Add);
    public Tensor Sub_(Tensor other) => Binary_(other, BinaryOp.Sub);
    public Tensor Mul_(Tensor other) => Binary_(other, BinaryOp.Mul);
    public Tensor Div_(Tensor other) => Binary_(other, BinaryOp.Div);
    public Tensor Pow_(Tensor exponent) => Binary_(exponent, BinaryOp.Pow);
    public Tensor Maximum_(Tensor other) => Binary_(other, BinaryOp.Maximum);
    public Tensor Minimum_(Tensor other) => Binary_(other, BinaryOp.Minimum);

    public Tensor Add_(Scalar other) => BinaryScalar_(other, BinaryOp.Add);
    public Tensor Sub_(Scalar other) => BinaryScalar_(other, BinaryOp.Sub);
    public Tensor Mul_(Scalar other) => BinaryScalar_(other, BinaryOp.Mul);
    public Tensor Div_(Scalar other) => BinaryScalar_(other, BinaryOp.Div);
    public Tensor Pow_(Scalar exponent) => BinaryScalar_(exponent, BinaryOp.Pow);

    /// <summary>this += alpha · other, in place.</summary>
    public Tensor Add_(Tensor other, Scalar alpha)
    {
        NativeError.Check(NativeMethods.sora_add_scaled_(Handle, other.Handle, alpha.ToNative()));
        return this;
    }

    /// <summary>this += weight · (end − this), in place (an EMA update).</summary>
    public Tensor Lerp_(Tensor end, Scalar weight)
    {
        NativeError.Check(NativeMethods.sora_lerp_(Handle, end.Handle, weight.ToNative()));
        return this;
    }

    /// <summary>this += value · a · b, in place.</summary>
    public Tensor Addcmul_(Tensor a, Tensor b, Scalar value)
    {
        NativeError.Check(NativeMethods.sora_addcmul_(Handle, a.Handle, b.Handle, value.ToNative()));
        return this;
    }

    /// <summary>this += value · a ÷ b, in place.</summary>
    public Tensor Addcdiv_(Tensor a, Tensor b, Scalar value)
    {
        NativeError.Check(NativeMethods.sora_addcdiv_(Handle, a.Handle, b.Handle, value.ToNative()));
        return this;
    }

    /// <summary>Limits values to [min, max]; either bound may be absent.</summary>
    public Tensor Clamp(Scalar? min = null, Scalar? max = null)
    {
        RequireBound(min, max);
        return new(NativeMethods.sora_clamp(Handle, (min ?? 0).ToNative(), min.HasValue ? 1 : 0, (max ?? 0).ToNative(), max.HasValue ? 1 : 0));
    }

    public Tensor Clamp_(Scalar? min = null, Scalar? max = null)
    {
        RequireBound(min, max);
        NativeError.Check(NativeMethods.sora_clamp_(Handle, (min ?? 0).ToNative(), min.HasValue ? 1 : 0, (max ?? 0).ToNative(), max.HasValue ? 1 : 0));
        return this;
    }

    /// <summary>Element-wise choice: condition ? a : b.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => new(NativeMethods.sora_where(condition.Handle, a.Handle, b.Handle));

    /// <summary>Where mask is true, value; elsewhere this tensor's element.</summary>
    public Tensor MaskedFill(Tensor mask, Scalar value) => new(NativeMethods.sora_masked_fill(Handle, mask.Handle, value.ToNative()));

    public Tensor MaskedFill_(Tensor mask, Scalar value)
    {
        NativeError.Check(NativeMethods.sora_masked_fill_(Handle, mask.Handle, value.ToNative()));
        return this;
    }

    public Tensor Softmax(long dim) => new(NativeMethods.sora_softmax(Handle, dim));

    public Tensor LogSoftmax(long dim) => new(NativeMethods.sora_log_softmax(Handle, dim));

    /// <summary>True when both tensors have the same shape, dtype and elements.</summary>
    public bool Equal(Tensor other) => NativeError.Check(NativeMethods.sora_equal(Handle, other.Handle)) == 1;

    /// <summary>|this − other| ≤ atol + rtol·|other| everywhere.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8) =>
        NativeError.Check(NativeMethods.sora_allclose(Handle, other.Handle, rtol, atol)) == 1;

    public Tensor To(ScalarType dtype) => new(NativeMethods.sora_tensor_to_dtype(Handle, (int)dtype));

    public Tensor To(Device device, bool nonBlocking = false) =>
        new(NativeMethods.sora_tensor_to_device(Handle, (int)device.Type, device.Index, nonBlocking ? 1 : 0));

    /// <summary>
    /// A copy in page-locked (pinned) host memory, from which a non-blocking copy to a CUDA device runs asynchronously.
    /// Needs a shim built against a CUDA libtorch; a CPU-only build refuses it.
    /// </summary>
    public Tensor PinMemory() => new(NativeMethods.sora_tensor_pin_memory(Handle));

    /// <summary>Whether the elements live in pinned host memory (never in a CPU-only build).</summary>
    public bool IsPinned => NativeError.Check(NativeMethods.sora_tensor_is_pinned(Handle)) == 1;

    /// <summary>
    /// This tensor on <paramref name="device"/>, the way a training batch gets there: a host tensor goes to a CUDA device
    /// from pinned memory with a non-blocking copy, so the host returns at once and goes on (the kernels queued after it
    /// on the device wait for it; libtorch's pinned allocator keeps the pinned block until the copy is done). A tensor
    /// already on <paramref name="device"/> is returned itself, not copied.
    /// </summary>
    public Tensor OnDevice(Device device)
    {
        var current = Device;
        if (current == device || (device.Type == DeviceType.Cpu && current.Type == DeviceType.Cpu))
        {
            return this;
        }

        if (current.Type == DeviceType.Cpu && device.Type == DeviceType.Cuda)
        {
            using var pinned = IsPinned ? Alias() : PinMemory();
            return pinned.To(device, nonBlocking: true);
        }

        return To(device);
    }

    public Tensor Clone() => new(NativeMethods.sora_tensor_clone(Handle));

    /// <summary>Copies source into this tensor (broadcasting, converting dtype and device), in place.</summary>
    public Tensor Copy_(Tensor source)
    {
        NativeError.Check(NativeMethods.sora_tensor_copy_(Handle, source.Handle));
        return this;
    }

    public Tensor Fill_(Scalar value)
    {
        NativeError.Check(NativeMethods.sora_tensor_fill_(Handle, value.ToNative()));
        return this;
    }

    public Tensor Zero_()
    {
        NativeError.Check(NativeMethods.sora_tensor_zero_(Handle));
        return this;
    }

    /// <summary>Bytes of the storage under this tensor (shared by all its views).</summary>
    public long StorageBytes => NativeError.Check(NativeMethods.sora_tensor_storage_nbytes(Handle));

    /// <summary>
    /// Resizes the storage under this tensor and all its views to <paramref name="bytes"/> (CPU): 0 frees the
    /// memory while the views keep their shapes; resized back and refilled, they are valid again (FSDP's free
    /// and re-gather of a unit's parameters). Reading a view while its storage is too small is an error.
    /// </summary>
    public void ResizeStorage(long bytes) => NativeError.Check(NativeMethods.sora_tensor_storage_resize(Handle, bytes));

    /// <summary>Makes this tensor use <paramref name="source"/>'s data, dtype and device, keeping its identity (as param.data = ...).</summary>
    public Tensor SetData(Tensor source)
    {
        NativeError.Check(NativeMethods.sora_tensor_set_data(Handle, source.Handle));
        InvalidateMetadata();
        return this;
    }

    /// <summary>Fills with uniform samples in [from, to) from the default generator.</summary>
    public Tensor Uniform_(double from = 0, double to = 1)
    {
        NativeError.Check(NativeMethods.sora_tensor_uniform_(Handle, from, to));
        return this;
    }

    /// <summary>Fills with normal samples from the default generator.</summary>
    public Tensor Normal_(double mean = 0, double std = 1)
    {
        NativeError.Check(NativeMethods.sora_tensor_normal_(Handle, mean, std));
        return this;
    }

    private static void RequireBound(Scalar? min, Scalar? max)
    {
        if (min is null && max is null)
        {
            throw new ArgumentException("Clamp needs a min, a max, or both");
        }
    }

    private Tensor Unary(UnaryOp op) => new(NativeMethods.sora_unary(Handle, op));

    private Tensor Unary_(UnaryOp op)
    {
        NativeError.Check(NativeMethods.sora_unary_(Handle, op));
        return this;
    }

    private Tensor Binary(Tensor other, BinaryOp op)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(NativeMethods.sora_binary(Handle, other.Handle, op));
    }

    private Tensor Binary_(Tensor other, BinaryOp op)
    {
        ArgumentNullException.ThrowIfNull(other);
        NativeError.Check(NativeMethods.sora_binary_(Handle, other.Handle, op));
        return this;
    }

    private Tensor BinaryScalar(Scalar other, BinaryOp op) => new(NativeMethods.sora_binary_scalar(Handle, other.ToNative(), op));

    private Tensor BinaryScalar_(Scalar other, BinaryOp op)
    {
        NativeError.Check(NativeMethods.sora_binary_scalar_(Handle, other.ToNative(), op));
        return this;
    }
}
