using System.Diagnostics;
using Sora.Torch;
using Sora.Torch.Autograd;
using Sora.Torch.Distributed;
using Sora.Torch.NN;

namespace Sora.Distributed.Parallel;

/// <summary>
/// Data parallelism across a process group (after PyTorch's DistributedDataParallel): every rank holds
/// the whole model; gradients are grouped into buckets of about <c>bucketBytes</c> in reverse parameter
/// order (roughly the order backward produces them), and each bucket is all-reduced (averaged) as soon
/// as its last gradient is accumulated, while backward goes on. Buckets are launched in index order on
/// every rank, which keeps the ranks' collectives in the same sequence.
/// </summary>
public sealed class DistributedDataParallel : IDisposable
{
    /// <summary>PyTorch's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    private readonly ProcessGroup _group;
    private readonly List<GradientBucket> _buckets = [];
    private readonly List<GradientHook> _hooks = [];
    private readonly object _gate = new();
    private int _nextToLaunch;
    private bool _syncEnabled = true;

    /// <summary>Broadcasts rank 0's parameters and buffers, then registers the gradient hooks.</summary>
    public DistributedDataParallel(Module model, ProcessGroup group, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        _group = group ?? throw new ArgumentNullException(nameof(group));
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 1);
        Model = model;
        BroadcastFromRankZero(model, group);

        var trainable = model.Parameters().Select((p, slot) => (Slot: slot, Parameter: p)).Where(x => x.Parameter.RequiresGrad).ToList();
        var current = new List<(int, Tensor)>();
        long bytes = 0;
        foreach (var (slot, parameter) in Enumerable.Reverse(trainable))
        {
            current.Add((slot, parameter));
            bytes += parameter.ByteCount;
            if (bytes >= bucketBytes)
            {
                _buckets.Add(new GradientBucket(_buckets.Count, current));
                current = [];
                bytes = 0;
            }
        }

        if (current.Count > 0)
        {
            _buckets.Add(new GradientBucket(_buckets.Count, current));
        }

        foreach (var bucket in _buckets)
        {
            for (var member = 0; member < bucket.Members.Count; member++)
            {
                var (b, m) = (bucket, member);
                _hooks.Add(bucket.Members[member].Parameter.RegisterPostAccumulateGradHook(_ => OnGradientReady(b, m)));
            }
        }
    }

    /// <summary>The wrapped model (forward it directly; the hooks do the rest).</summary>
    public Module Model { get; }

    /// <summary>The buckets' sizes in bytes, in launch order.</summary>
    public IReadOnlyList<long> BucketBytes => _buckets.Select(b => b.Bytes).ToArray();

    /// <summary>Time the last <see cref="SynchronizeGradients"/> spent waiting for communication (not hidden behind backward).</summary>
    public TimeSpan ExposedCommunication { get; private set; }

    /// <summary>
    /// Inside this scope backward only accumulates gradients locally (gradient accumulation); the
    /// backward after it reduces the accumulated sum.
    /// </summary>
    public IDisposable NoSync()
    {
        _syncEnabled = false;
        return new SyncRestorer(this);
    }

    /// <summary>
    /// Call after the (synchronised) backward: launches buckets that did not fill (parameters without a
    /// gradient this step count as zeros), waits for every reduction and leaves the average gradient
    /// of all ranks in each parameter's <c>Grad</c>.
    /// </summary>
    public void SynchronizeGradients()
    {
        var clock = Stopwatch.StartNew();
        lock (_gate)
        {
            while (_nextToLaunch < _buckets.Count)
            {
                _buckets[_nextToLaunch++].Launch(_group);
            }
        }

        foreach (var bucket in _buckets)
        {
            bucket.Complete();
            bucket.Reset();
        }

        _nextToLaunch = 0;
        ExposedCommunication = clock.Elapsed;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var hook in _hooks)
        {
            hook.Dispose();
        }

        foreach (var bucket in _buckets)
        {
            bucket.Dispose();
        }
    }

    /// <summary>Copies rank 0's parameters and buffers to every rank, so all replicas start equal.</summary>
    public static void BroadcastFromRankZero(Module model, ProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(group);
        if (group.WorldSize == 1)
        {
            return;
        }

        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        foreach (var (_, tensor) in model.StateDict())
        {
            using var work = group.Broadcast(tensor, root: 0);
            work.Wait();
        }
    }

    private void OnGradientReady(GradientBucket bucket, int member)
    {
        if (!_syncEnabled)
        {
            return;
        }

        lock (_gate)
        {
            bucket.MarkReady(member);
            while (_nextToLaunch < _buckets.Count && _buckets[_nextToLaunch].IsReady)
            {
                _buckets[_nextToLaunch++].Launch(_group);
            }
        }
    }

    private sealed class SyncRestorer(DistributedDataParallel owner) : IDisposable
    {
        public void Dispose() => owner._syncEnabled = true;
    }
}
