using Sora.Torch.Native;

namespace Sora.Torch.Distributed;

/// <summary>
/// A group of ranks that run collectives together over libtorch's c10d (Gloo on CPU, NCCL on CUDA).
/// Creating one is a rendezvous: it returns when every rank joined through the store, or fails after
/// the timeout. The same timeout bounds every collective, so a dead or stalled peer makes the
/// survivors fail instead of hanging.
/// </summary>
public sealed unsafe class ProcessGroup : IDisposable
{
    private readonly NativeObjectHandle _handle;

    private ProcessGroup(NativeObjectHandle handle, ProcessGroupBackend backend, int rank, int worldSize, TimeSpan timeout)
    {
        _handle = handle;
        Backend = backend;
        Rank = rank;
        WorldSize = worldSize;
        Timeout = timeout;
    }

    /// <summary>This process's rank, 0..WorldSize-1.</summary>
    public int Rank { get; }

    /// <summary>How many ranks the group has.</summary>
    public int WorldSize { get; }

    /// <summary>The transport.</summary>
    public ProcessGroupBackend Backend { get; }

    /// <summary>The bound on rendezvous and on every collective.</summary>
    public TimeSpan Timeout { get; }

    private NativeObjectHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(ProcessGroup), $"rank {Rank}'s process group was disposed") : _handle;

    /// <summary>Whether this build of the shim can create <paramref name="backend"/>.</summary>
    public static bool IsAvailable(ProcessGroupBackend backend) => NativeMethods.sora_backend_available((int)backend) != 0;

    /// <summary>
    /// Joins a group through <paramref name="store"/> (give each group its own store prefix).
    /// <paramref name="host"/> is the address Gloo binds and tells its peers (127.0.0.1 on one machine).
    /// </summary>
    public static ProcessGroup Create(ProcessGroupBackend backend, TcpStore store, int rank, int worldSize, TimeSpan timeout, string host = "127.0.0.1")
    {
        ArgumentNullException.ThrowIfNull(store);
        var milliseconds = TcpStore.ToMilliseconds(timeout);
        try
        {
            var handle = new NativeObjectHandle(
                NativeMethods.sora_process_group_create((int)backend, store.Handle, rank, worldSize, host, milliseconds),
                &NativeMethods.sora_process_group_dispose);
            return new ProcessGroup(handle, backend, rank, worldSize, timeout);
        }
        catch (TorchException error)
        {
            throw new CollectiveException(rank, worldSize, $"joining the {backend} process group through {store.Host}:{store.Port}", error);
        }
    }

    /// <summary>Reduces <paramref name="tensor"/> across ranks in place.</summary>
    public CollectiveWork AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) =>
        Start("all_reduce", () => NativeMethods.sora_all_reduce(Handle, tensor.Handle, (int)op));

    /// <summary>Reduces several tensors in one message (each keeps its own shape).</summary>
    public CollectiveWork AllReduceCoalesced(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
    {
        var handles = new IntPtr[tensors.Count];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = tensors[i].RawHandle;
        }

        return Start("all_reduce_coalesced", () =>
        {
            fixed (IntPtr* array = handles)
            {
                return NativeMethods.sora_all_reduce_coalesced(Handle, array, handles.Length, (int)op);
            }
        }, tensors);
    }

    /// <summary>Copies <paramref name="root"/>'s tensor into every rank's.</summary>
    public CollectiveWork Broadcast(Tensor tensor, int root) =>
        Start("broadcast", () => NativeMethods.sora_broadcast(Handle, tensor.Handle, root));

    /// <summary>Gathers every rank's <paramref name="input"/> into <paramref name="output"/> (WorldSize × input elements, rank order).</summary>
    public CollectiveWork AllGather(Tensor output, Tensor input) =>
        Start("all_gather", () => NativeMethods.sora_all_gather(Handle, output.Handle, input.Handle));

    /// <summary>
    /// Reduces <paramref name="input"/> (WorldSize × output elements) across ranks and leaves slice
    /// <see cref="Rank"/> of the result in <paramref name="output"/>. On Gloo this is an all-reduce plus
    /// a copy: twice the traffic of a native reduce-scatter (see docs/distributed.md).
    /// </summary>
    public CollectiveWork ReduceScatter(Tensor output, Tensor input, ReduceOp op = ReduceOp.Sum) =>
        Start("reduce_scatter", () => NativeMethods.sora_reduce_scatter(Handle, output.Handle, input.Handle, (int)op));

    /// <summary>Returns when every rank reached the barrier.</summary>
    public CollectiveWork Barrier() => Start("barrier", () => NativeMethods.sora_barrier(Handle));

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    internal T Run<T>(string operation, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (TorchException error)
        {
            throw new CollectiveException(Rank, WorldSize, operation, error);
        }
    }

    private CollectiveWork Start(string operation, Func<IntPtr> start, IReadOnlyList<Tensor>? keepAlive = null)
    {
        var handle = Run(operation, () => new NativeObjectHandle(start(), &NativeMethods.sora_work_dispose));
        GC.KeepAlive(keepAlive);
        return new CollectiveWork(handle, this, operation);
    }
}
