using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>libtorch's default random generators: seeding and saving/restoring their exact state.</summary>
public static unsafe class RandomState
{
    /// <summary>Seeds the default generators of every device.</summary>
    public static void ManualSeed(ulong seed) => NativeError.Check(NativeMethods.sora_manual_seed(seed));

    /// <summary>The full state of a device's default generator; restoring it replays the same numbers.</summary>
    public static byte[] GetState(Device? device = null)
    {
        var d = device ?? Device.Cpu;
        var size = NativeError.Check(NativeMethods.sora_generator_get_state((int)d.Type, d.Index, null, 0));
        var state = new byte[size];
        fixed (byte* s = state)
        {
            NativeError.Check(NativeMethods.sora_generator_get_state((int)d.Type, d.Index, s, size));
        }

        return state;
    }

    public static void SetState(ReadOnlySpan<byte> state, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (byte* s = state)
        {
            NativeError.Check(NativeMethods.sora_generator_set_state((int)d.Type, d.Index, s, state.Length));
        }
    }
}
