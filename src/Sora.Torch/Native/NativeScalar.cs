using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

/// <summary>Mirror of the C <c>sora_scalar</c> struct.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NativeScalar
{
    public readonly double D;
    public readonly long I;
    public readonly int Kind;

    public NativeScalar(double d, long i, int kind)
    {
        D = d;
        I = i;
        Kind = kind;
    }
}
