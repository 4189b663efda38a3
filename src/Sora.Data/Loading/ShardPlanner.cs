namespace Sora.Data.Loading;

/// <summary>
/// Computes <see cref="ShardPlan"/>s: the control plane's view of the data. The plan follows the global
/// <see cref="SampleOrder"/> from a cursor and splits each global batch by <see cref="GlobalBatch.RankSlice(int, int, int)"/>.
/// </summary>
public sealed class ShardPlanner
{
    public ShardPlanner(SampleOrder order, int globalBatchSize)
    {
        Order = order ?? throw new ArgumentNullException(nameof(order));
        GlobalBatch.Validate(globalBatchSize, 1);
        GlobalBatchSize = globalBatchSize;
    }

    public SampleOrder Order { get; }

    public int GlobalBatchSize { get; }

    /// <summary>The next <paramref name="batches"/> global batches after <paramref name="start"/>, split over <paramref name="worldSize"/> ranks.</summary>
    public ShardPlan Plan(DataCursor start, int worldSize, int batches)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        GlobalBatch.Validate(GlobalBatchSize, worldSize);
        Order.Check(start);

        var perRank = Enumerable.Range(0, worldSize).Select(_ => new List<RankBatchPlan>(batches)).ToArray();
        var cursor = start;
        for (var b = 0; b < batches; b++)
        {
            var global = Order.From(cursor, GlobalBatchSize).ToArray();
            cursor = Order.Advance(cursor, GlobalBatchSize);
            for (var rank = 0; rank < worldSize; rank++)
            {
                perRank[rank].Add(new RankBatchPlan(GlobalBatch.RankSlice(global, rank, worldSize), cursor));
            }
        }

        var ranks = perRank
            .Select((plans, rank) => new RankShardPlan(rank, worldSize, start, plans, ShardRowRange.Cover(plans.SelectMany(p => p.Samples), Order.Shards)))
            .ToArray();
        return new ShardPlan(start, GlobalBatchSize, ranks);
    }
}
