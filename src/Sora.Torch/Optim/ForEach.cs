using Sora.Torch.Native;

namespace Sora.Torch.Optim;

/// <summary>Operations over lists of tensors in one native call, as torch's _foreach_* functions.</summary>
public static unsafe class ForEach
{
    /// <summary>The p-norm of all tensors together, as if flattened into one vector.</summary>
    public static double Norm(ReadOnlySpan<Tensor> tensors, double p = 2)
    {
        var handles = Tensor.Handles(tensors);
        double norm;
        fixed (IntPtr* h = handles)
        {
            NativeError.Check(NativeMethods.sora_total_norm(h, handles.Length, p, &norm));
        }

        Tensor.KeepAlive(tensors);
        return norm;
    }

    /// <summary>Multiplies every tensor by <paramref name="factor"/> in place.</summary>
    public static void Scale_(ReadOnlySpan<Tensor> tensors, double factor)
    {
        var handles = Tensor.Handles(tensors);
        fixed (IntPtr* h = handles)
        {
            NativeError.Check(NativeMethods.sora_scale_(h, handles.Length, factor));
        }

        Tensor.KeepAlive(tensors);
    }
}
