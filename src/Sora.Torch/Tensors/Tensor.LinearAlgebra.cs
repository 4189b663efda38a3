using Sora.Torch.Native;

namespace Sora.Torch;

public sealed partial class Tensor
{
    /// <summary>Matrix product with torch.matmul's broadcasting rules.</summary>
    public Tensor MatMul(Tensor other) => new(NativeMethods.sora_matmul(Handle, other.Handle));

    /// <summary>2-D matrix product.</summary>
    public Tensor Mm(Tensor other) => new(NativeMethods.sora_mm(Handle, other.Handle));

    /// <summary>Batched 3-D matrix product.</summary>
    public Tensor Bmm(Tensor other) => new(NativeMethods.sora_bmm(Handle, other.Handle));
    /// <summary>out = a @ b, into an existing tensor.</summary>
    public static void MmOut(Tensor output, Tensor a, Tensor b) =>
        NativeError.Check(NativeMethods.sora_mm_out(output.Handle, a.Handle, b.Handle));

    /// <summary>beta · input + alpha · (a @ b).</summary>
    public static Tensor Addmm(Tensor input, Tensor a, Tensor b, Scalar? beta = null, Scalar? alpha = null) =>
        new(NativeMethods.sora_addmm(input.Handle, a.Handle, b.Handle, (beta ?? 1).ToNative(), (alpha ?? 1).ToNative()));

    /// <summary>beta · input + alpha · (a @ b), batched.</summary>
    public static Tensor Baddbmm(Tensor input, Tensor a, Tensor b, Scalar? beta = null, Scalar? alpha = null) =>
        new(NativeMethods.sora_baddbmm(input.Handle, a.Handle, b.Handle, (beta ?? 1).ToNative(), (alpha ?? 1).ToNative()));
}
