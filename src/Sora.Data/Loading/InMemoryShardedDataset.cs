namespace Sora.Data.Loading;

/// <summary>A sharded dataset held in memory: each shard is a list of rows. For tests and small jobs.</summary>
/// <typeparam name="TSample">The row type.</typeparam>
public sealed class InMemoryShardedDataset<TSample> : IShardedDataset<TSample>
{
    private readonly IReadOnlyList<TSample>[] _rows;

    /// <param name="shards">Each shard's id and rows, in dataset order.</param>
    public InMemoryShardedDataset(IEnumerable<(string Id, IReadOnlyList<TSample> Rows)> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var list = shards.ToArray();
        var duplicate = list.GroupBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"shard id '{duplicate.Key}' appears {duplicate.Count()} times; shard ids must be unique", nameof(shards));
        }

        _rows = list.Select(s => s.Rows).ToArray();
        Shards = list.Select(s => new ShardInfo(s.Id, s.Rows.Count)).ToArray();
    }

    public IReadOnlyList<ShardInfo> Shards { get; }

    public IShardReader<TSample> Open(int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, _rows.Length);
        return new Reader(Shards[shard].Id, _rows[shard]);
    }

    private sealed class Reader(string id, IReadOnlyList<TSample> rows) : IShardReader<TSample>
    {
        private bool _disposed;

        public IReadOnlyList<TSample> ReadRows(long start, int count)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ShardRows.CheckRange(id, rows.Count, start, count);
            var result = new TSample[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = rows[(int)start + i];
            }

            return result;
        }

        public void Dispose() => _disposed = true;
    }
}
