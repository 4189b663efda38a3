namespace Sora.Data.Loading;

/// <summary>
/// A dataset stored as an ordered list of shards (Parquet files, in-memory lists, a generator) whose rows can be
/// read by index range. The loaders only need this: which shards exist, how many rows each has, and a way to
/// open one shard and read a contiguous run of its rows.
/// </summary>
/// <typeparam name="TSample">What one row becomes.</typeparam>
public interface IShardedDataset<TSample>
{
    /// <summary>The shards in a fixed order; global sample index i is row (i − rows before it) of the shard holding it.</summary>
    IReadOnlyList<ShardInfo> Shards { get; }

    /// <summary>Opens shard <paramref name="shard"/> (an index into <see cref="Shards"/>) for reading.</summary>
    IShardReader<TSample> Open(int shard);
}

/// <summary>An open shard: reads contiguous row ranges. Disposing closes the underlying file.</summary>
/// <typeparam name="TSample">What one row becomes.</typeparam>
public interface IShardReader<TSample> : IDisposable
{
    /// <summary>Rows [<paramref name="start"/>, start + <paramref name="count"/>) of the shard, in order.</summary>
    IReadOnlyList<TSample> ReadRows(long start, int count);
}
