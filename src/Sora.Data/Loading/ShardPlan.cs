namespace Sora.Data.Loading;

/// <summary>
/// What every rank reads for the next few global batches, computed once (by the control plane) from the global
/// cursor: per rank, the samples of each batch in order and the shard row ranges that hold them. A rank given its
/// <see cref="RankShardPlan"/> opens exactly the shards named in <see cref="RankShardPlan.Reads"/>.
/// </summary>
/// <param name="Start">The global cursor before the first planned batch.</param>
/// <param name="GlobalBatchSize">Samples per global batch, all ranks together.</param>
/// <param name="Ranks">One plan per rank, indexed by rank.</param>
public sealed record ShardPlan(DataCursor Start, int GlobalBatchSize, IReadOnlyList<RankShardPlan> Ranks)
{
    public int WorldSize => Ranks.Count;

    /// <summary>The global cursor after the last planned batch.</summary>
    public DataCursor End => Ranks[0].End;

    public RankShardPlan ForRank(int rank)
    {
        if (rank < 0 || rank >= Ranks.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is outside a plan for {Ranks.Count} ranks");
        }

        return Ranks[rank];
    }
}

/// <summary>One rank's part of a <see cref="ShardPlan"/>.</summary>
/// <param name="Rank">The rank.</param>
/// <param name="WorldSize">Ranks in the plan.</param>
/// <param name="Start">The global cursor before the first planned batch.</param>
/// <param name="Batches">This rank's slice of each planned global batch, in order.</param>
/// <param name="Reads">Every shard row range the slices need, by shard then row.</param>
public sealed record RankShardPlan(int Rank, int WorldSize, DataCursor Start, IReadOnlyList<RankBatchPlan> Batches, IReadOnlyList<ShardRowRange> Reads)
{
    /// <summary>The global cursor after the last planned batch.</summary>
    public DataCursor End => Batches.Count == 0 ? Start : Batches[^1].CursorAfter;

    /// <summary>Whether <paramref name="sample"/>'s row lies in one of <see cref="Reads"/>.</summary>
    public bool Covers(SampleAddress sample) =>
        Reads.Any(r => r.Shard == sample.Shard && sample.Row >= r.Start && sample.Row < r.End);
}

/// <summary>A rank's slice of one global batch and the global cursor once the whole global batch is consumed.</summary>
public sealed record RankBatchPlan(IReadOnlyList<SampleAddress> Samples, DataCursor CursorAfter);
