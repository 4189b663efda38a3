namespace Sora.Data.Loading;

/// <summary>How the distributed loader orders, batches, plans and prefetches samples.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Seed of the sample order.</summary>
    public ulong Seed { get; init; }

    /// <summary>Samples per global batch (all ranks together); a multiple of the world size.</summary>
    public int GlobalBatchSize { get; init; } = 16;

    /// <summary>Shards whose samples are shuffled together (see <see cref="SampleOrder"/>).</summary>
    public int ShardWindow { get; init; } = 4;

    /// <summary>Global batches covered by one shard plan.</summary>
    public int PlanBatches { get; init; } = 16;

    /// <summary>Batches the background worker may have ready ahead of the consumer.</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>
    /// Batches of a plan read together: their rows are grouped by shard, so a reader that decodes in blocks (a Parquet
    /// row group) decodes each block once for all of them. They are held until handed out, so at most
    /// ReadAheadBatches + <see cref="PrefetchBatches"/> + 1 batches are in memory beyond the consumer's.
    /// </summary>
    public int ReadAheadBatches { get; init; } = 1;

    /// <summary>Blocks (row groups) of one shard decoded at the same time.</summary>
    public int DecodeThreads { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public DataLoaderOptions Validate()
    {
        Require(GlobalBatchSize >= 1, "global_batch_size", GlobalBatchSize);
        Require(ShardWindow >= 1, "shard_window", ShardWindow);
        Require(PlanBatches >= 1, "plan_batches", PlanBatches);
        Require(PrefetchBatches >= 1, "prefetch_batches", PrefetchBatches);
        Require(ReadAheadBatches >= 1, "read_ahead_batches", ReadAheadBatches);
        Require(DecodeThreads >= 1, "decode_threads", DecodeThreads);
        return this;
    }

    private static void Require(bool condition, string field, int value)
    {
        if (!condition)
        {
            throw new ArgumentException($"data.{field}: must be >= 1 (got {value})");
        }
    }
}
