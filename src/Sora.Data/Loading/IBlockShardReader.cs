namespace Sora.Data.Loading;

/// <summary>
/// A shard reader that decodes its rows in blocks (a Parquet row group): given many runs of rows at once, it decodes
/// each block they touch once, on several threads, instead of once per run. A shuffled order reads a few rows of
/// many blocks, so reading the runs of several batches together is what keeps such a loader fast.
/// </summary>
/// <typeparam name="TSample">What one row becomes.</typeparam>
public interface IBlockShardReader<TSample> : IShardReader<TSample>
{
    /// <summary>The rows of <paramref name="ranges"/> (runs of this shard, by start, not overlapping), concatenated in order.</summary>
    /// <param name="ranges">The runs.</param>
    /// <param name="threads">Blocks decoded at the same time (>= 1).</param>
    IReadOnlyList<TSample> ReadRanges(IReadOnlyList<ShardRowRange> ranges, int threads);
}
