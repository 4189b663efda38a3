namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Host buffers handed from one snapshot to the next. A training run checkpoints the same tensors every time,
/// so after the first save a snapshot's blocking part is a copy into memory that is already mapped, not an
/// allocation that page-faults its way in. Buffers go back only once the save that used them has finished.
/// </summary>
public sealed class HostBufferPool
{
    private readonly Dictionary<int, Stack<byte[]>> _free = [];

    /// <summary>Bytes held for reuse.</summary>
    public long FreeBytes
    {
        get
        {
            lock (_free)
            {
                return _free.Sum(kv => (long)kv.Key * kv.Value.Count);
            }
        }
    }

    /// <summary>A buffer of exactly <paramref name="length"/> bytes, reused when one is free; its contents are undefined.</summary>
    public byte[] Rent(int length)
    {
        lock (_free)
        {
            if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                return stack.Pop();
            }
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Takes back every buffer of <paramref name="snapshot"/>; the snapshot must not be used afterwards.</summary>
    public void Return(ShardSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_free)
        {
            foreach (var range in snapshot.Ranges)
            {
                if (!_free.TryGetValue(range.Data.Length, out var stack))
                {
                    _free[range.Data.Length] = stack = new Stack<byte[]>();
                }

                stack.Push(range.Data);
            }
        }
    }
}
