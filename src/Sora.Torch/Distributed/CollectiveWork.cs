using Sora.Torch.Native;

namespace Sora.Torch.Distributed;

/// <summary>
/// An in-flight collective. Its tensors hold the result only after <see cref="Wait"/> returned:
/// that is also where a peer's death or a timeout surfaces, as a <see cref="CollectiveException"/>.
/// </summary>
public sealed class CollectiveWork : IDisposable
{
    private readonly NativeObjectHandle _handle;
    private readonly ProcessGroup _group;
    private readonly string _operation;

    internal CollectiveWork(NativeObjectHandle handle, ProcessGroup group, string operation)
    {
        _handle = handle;
        _group = group;
        _operation = operation;
    }

    /// <summary>Whether the transport finished (successfully or not); call <see cref="Wait"/> before reading results.</summary>
    public bool IsCompleted => NativeError.Check(NativeMethods.sora_work_is_completed(Handle)) != 0;

    private NativeObjectHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(CollectiveWork), $"the {_operation} work was disposed") : _handle;

    /// <summary>Blocks until done; <paramref name="timeout"/> defaults to the group's.</summary>
    public void Wait(TimeSpan? timeout = null)
    {
        var milliseconds = timeout is { } value ? TcpStore.ToMilliseconds(value) : 0;
        _group.Run(_operation, () => NativeError.Check(NativeMethods.sora_work_wait(Handle, milliseconds)));
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
