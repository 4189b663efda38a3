namespace Sora.Data.Loading;

/// <summary>
/// One rank's data loader: follows shard plans from the global cursor (computed locally, or handed out by the
/// control plane), reads only the planned shards, and prefetches in the background with bounded memory. Every
/// rank's batches are slices of the same global batches, and <see cref="Cursor"/> is the same on every rank, so a
/// checkpoint stores one cursor and any world size resumes from it at exactly the next sample.
/// </summary>
/// <typeparam name="TSample">The row type.</typeparam>
public sealed class DistributedDataLoader<TSample> : IDisposable
{
    private readonly IShardedDataset<TSample> _dataset;
    private readonly Func<DataCursor, RankShardPlan> _plans;
    private readonly BatchPrefetcher<LoadedBatch<TSample>> _prefetcher;
    private readonly int _readAheadBatches;
    private readonly int _decodeThreads;

    /// <param name="dataset">The dataset.</param>
    /// <param name="options">Order, batch size, plan length and prefetch depth.</param>
    /// <param name="rank">This rank.</param>
    /// <param name="worldSize">Ranks reading together.</param>
    /// <param name="resumeFrom">A cursor from a checkpoint (written by any world size), or null to start at epoch 0.</param>
    /// <param name="plans">Where this rank's plans come from (the control plane); null plans locally with <see cref="ShardPlanner"/>.</param>
    public DistributedDataLoader(
        IShardedDataset<TSample> dataset, DataLoaderOptions options, int rank, int worldSize, DataCursor? resumeFrom = null,
        Func<DataCursor, RankShardPlan>? plans = null)
    {
        _dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        GlobalBatch.RankSlice(options.GlobalBatchSize, rank, worldSize);
        Rank = rank;
        WorldSize = worldSize;
        Order = new SampleOrder(dataset.Shards, options.Seed, options.ShardWindow);
        Cursor = resumeFrom ?? Order.Start();
        Order.Check(Cursor);
        if (plans is null)
        {
            var planner = new ShardPlanner(Order, options.GlobalBatchSize);
            plans = cursor => planner.Plan(cursor, worldSize, options.PlanBatches).ForRank(rank);
        }

        _plans = plans;
        _readAheadBatches = options.ReadAheadBatches;
        _decodeThreads = options.DecodeThreads;
        var start = Cursor;
        _prefetcher = new BatchPrefetcher<LoadedBatch<TSample>>(token => Stream(start, token), options.PrefetchBatches);
    }

    public int Rank { get; }

    public int WorldSize { get; }

    public SampleOrder Order { get; }

    /// <summary>The global cursor after the last batch <see cref="Next"/> returned: what a checkpoint saves.</summary>
    public DataCursor Cursor { get; private set; }

    /// <summary>Batches read ahead and waiting.</summary>
    public int Buffered => _prefetcher.Buffered;

    /// <summary>The background worker (for tests: it completes when the loader is disposed or fails).</summary>
    internal Task Worker => _prefetcher.Worker;

    /// <summary>This rank's slice of the next global batch.</summary>
    /// <exception cref="DataLoadException">Reading failed; the message names the shard, rows and rank.</exception>
    public LoadedBatch<TSample> Next()
    {
        var batch = _prefetcher.Next();
        Cursor = batch.CursorAfter;
        return batch;
    }

    public void Dispose() => _prefetcher.Dispose();

    private IEnumerable<LoadedBatch<TSample>> Stream(DataCursor start, CancellationToken token)
    {
        var cursor = start;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            var plan = _plans(cursor);
            if (plan.Rank != Rank || plan.WorldSize != WorldSize || plan.Start != cursor || plan.Batches.Count == 0)
            {
                throw new DataLoadException(
                    $"rank {Rank} of {WorldSize} asked for a plan from epoch {cursor.Epoch} sample {cursor.SamplesConsumed} but got one for rank {plan.Rank} " +
                    $"of {plan.WorldSize} from epoch {plan.Start.Epoch} sample {plan.Start.SamplesConsumed} with {plan.Batches.Count} batches");
            }

            foreach (var batch in PlannedBatchReader.Read(_dataset, plan, _readAheadBatches, _decodeThreads))
            {
                yield return batch;
                token.ThrowIfCancellationRequested();
            }

            cursor = plan.End;
        }
    }
}
