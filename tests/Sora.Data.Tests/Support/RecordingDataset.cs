using System.Collections.Concurrent;
using Sora.Data.Loading;

namespace Sora.Data.Tests.Support;

/// <summary>
/// Wraps a real sharded dataset and records what is opened and read (shard, rows), how many readers are open, and
/// optionally fails when a given row is read: the observable behaviour of a rank's loader.
/// </summary>
internal sealed class RecordingDataset<T>(IShardedDataset<T> inner) : IShardedDataset<T>
{
    private long _rowsRead;
    private int _openReaders;

    public IReadOnlyList<ShardInfo> Shards => inner.Shards;

    public ConcurrentQueue<int> Opened { get; } = new();

    public ConcurrentQueue<(int Shard, long Start, int Count)> Reads { get; } = new();

    public long RowsRead => Interlocked.Read(ref _rowsRead);

    public int OpenReaders => Volatile.Read(ref _openReaders);

    /// <summary>Reading this (shard, row) throws an <see cref="IOException"/>.</summary>
    public (int Shard, long Row)? FailAt { get; init; }

    public IShardReader<T> Open(int shard)
    {
        Opened.Enqueue(shard);
        var reader = inner.Open(shard);
        Interlocked.Increment(ref _openReaders);
        return new Reader(this, shard, reader);
    }

    private sealed class Reader(RecordingDataset<T> owner, int shard, IShardReader<T> inner) : IShardReader<T>
    {
        public IReadOnlyList<T> ReadRows(long start, int count)
        {
            if (owner.FailAt is { } fail && fail.Shard == shard && fail.Row >= start && fail.Row < start + count)
            {
                throw new IOException($"disk on fire at row {fail.Row}");
            }

            var rows = inner.ReadRows(start, count);
            owner.Reads.Enqueue((shard, start, count));
            Interlocked.Add(ref owner._rowsRead, count);
            return rows;
        }

        public void Dispose()
        {
            inner.Dispose();
            Interlocked.Decrement(ref owner._openReaders);
        }
    }
}

/// <summary>Small in-memory datasets whose rows are their own global sample index.</summary>
internal static class IndexDataset
{
    /// <summary>Shards "shard-0", "shard-1", … with the given row counts; row r of shard s holds its global index.</summary>
    public static InMemoryShardedDataset<long> Create(params int[] rows)
    {
        long next = 0;
        var shards = new List<(string, IReadOnlyList<long>)>();
        for (var s = 0; s < rows.Length; s++)
        {
            var values = new long[rows[s]];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = next++;
            }

            shards.Add(($"shard-{s}", values));
        }

        return new InMemoryShardedDataset<long>(shards);
    }
}
