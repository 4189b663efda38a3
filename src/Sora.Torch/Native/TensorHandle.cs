using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

/// <summary>Owns one <c>at::Tensor*</c> allocated by the shim; releasing it deletes that handle.</summary>
internal sealed class TensorHandle : SafeHandle
{
    /// <summary>Passed for optional tensor arguments that are absent; never released.</summary>
    public static readonly TensorHandle Null = new();

    public TensorHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public TensorHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.sora_tensor_dispose(handle);
        return true;
    }
}
