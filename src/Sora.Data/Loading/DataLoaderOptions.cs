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

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public DataLoaderOptions Validate()
    {
        Require(GlobalBatchSize >= 1, "global_batch_size", GlobalBatchSize);
        Require(ShardWindow >= 1, "shard_window", ShardWindow);
        Require(PlanBatches >= 1, "plan_batches", PlanBatches);
        Require(PrefetchBatches >= 1, "prefetch_batches", PrefetchBatches);
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
