using Sora.Torch.Native;

namespace Sora.Torch.Autograd;

/// <summary>Turns gradient recording on or off for this thread until disposed, then restores the previous mode.</summary>
public sealed class GradMode : IDisposable
{
    private readonly bool _previous;
    private bool _disposed;

    private GradMode(bool enabled)
    {
        _previous = NativeMethods.sora_grad_enabled() != 0;
        NativeMethods.sora_set_grad_enabled(enabled ? 1 : 0);
    }

    /// <summary>Whether operations on this thread are recorded for autograd.</summary>
    public static bool IsEnabled => NativeMethods.sora_grad_enabled() != 0;

    public static GradMode Disable() => new(false);

    public static GradMode Enable() => new(true);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMethods.sora_set_grad_enabled(_previous ? 1 : 0);
        }
    }
}
