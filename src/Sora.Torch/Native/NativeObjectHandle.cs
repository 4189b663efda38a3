using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

/// <summary>
/// Owns one shim object other than a tensor (a store, a process group, a work handle); releasing it
/// calls that type's <c>*_dispose</c> export, which the owner names at creation.
/// </summary>
internal sealed unsafe class NativeObjectHandle : SafeHandle
{
    private readonly delegate*<IntPtr, void> _dispose;

    public NativeObjectHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public NativeObjectHandle(IntPtr handle, delegate*<IntPtr, void> dispose)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _dispose = dispose;
        SetHandle(NativeError.Check(handle));
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        if (_dispose != null)
        {
            _dispose(handle);
        }

        return true;
    }
}
