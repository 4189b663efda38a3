namespace Sora.Data.Loading;

/// <summary>
/// Carries out one rank's <see cref="RankShardPlan"/> against a dataset: opens only the planned shards, reads each
/// batch's rows as contiguous runs, returns the samples in plan order, and closes each shard after the last batch
/// of the plan that needs it.
/// </summary>
public static class PlannedBatchReader
{
    /// <summary>The plan's batches, read lazily one at a time.</summary>
    public static IEnumerable<LoadedBatch<TSample>> Read<TSample>(IShardedDataset<TSample> dataset, RankShardPlan plan)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(plan);
        CheckPlan(dataset.Shards, plan);
        return ReadChecked(dataset, plan);
    }

    private static IEnumerable<LoadedBatch<TSample>> ReadChecked<TSample>(IShardedDataset<TSample> dataset, RankShardPlan plan)
    {
        var lastUse = new Dictionary<int, int>();
        for (var b = 0; b < plan.Batches.Count; b++)
        {
            foreach (var sample in plan.Batches[b].Samples)
            {
                lastUse[sample.Shard] = b;
            }
        }

        var open = new Dictionary<int, IShardReader<TSample>>();
        try
        {
            for (var b = 0; b < plan.Batches.Count; b++)
            {
                var batch = plan.Batches[b];
                var rows = new Dictionary<(int Shard, long Row), TSample>(batch.Samples.Count);
                foreach (var range in ShardRowRange.Cover(batch.Samples, dataset.Shards))
                {
                    var read = ReadRange(dataset, plan, open, range);
                    for (var i = 0; i < read.Count; i++)
                    {
                        rows[(range.Shard, range.Start + i)] = read[i];
                    }
                }

                foreach (var shard in open.Keys.Where(s => lastUse[s] == b).ToArray())
                {
                    open.Remove(shard, out var reader);
                    reader!.Dispose();
                }

                yield return new LoadedBatch<TSample>(batch.Samples.Select(s => rows[(s.Shard, s.Row)]).ToArray(), batch.Samples, batch.CursorAfter);
            }
        }
        finally
        {
            foreach (var reader in open.Values)
            {
                reader.Dispose();
            }
        }
    }

    private static IReadOnlyList<TSample> ReadRange<TSample>(
        IShardedDataset<TSample> dataset, RankShardPlan plan, Dictionary<int, IShardReader<TSample>> open, ShardRowRange range)
    {
        try
        {
            if (!open.TryGetValue(range.Shard, out var reader))
            {
                reader = dataset.Open(range.Shard);
                open[range.Shard] = reader;
            }

            var rows = reader.ReadRows(range.Start, range.Count);
            if (rows.Count != range.Count)
            {
                throw new InvalidDataException($"the shard returned {rows.Count} rows instead of {range.Count}");
            }

            return rows;
        }
        catch (Exception e) when (e is not DataLoadException and not OperationCanceledException)
        {
            throw new DataLoadException($"rank {plan.Rank} of {plan.WorldSize}: reading {range} failed: {e.Message}", e) { Range = range };
        }
    }

    // Before anything is opened: the plan's shards are the dataset's, and every planned sample lies in a planned read.
    private static void CheckPlan(IReadOnlyList<ShardInfo> shards, RankShardPlan plan)
    {
        foreach (var range in plan.Reads)
        {
            if (range.Shard < 0 || range.Shard >= shards.Count || shards[range.Shard].Id != range.ShardId)
            {
                var found = range.Shard >= 0 && range.Shard < shards.Count ? $"'{shards[range.Shard].Id}'" : "no shard";
                throw new DataLoadException(
                    $"rank {plan.Rank}: the plan reads shard '{range.ShardId}' as #{range.Shard}, but the dataset has {found} there; plan and dataset disagree") { Range = range };
            }
        }

        var starts = plan.Reads.GroupBy(r => r.Shard).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Start).ToArray());
        foreach (var sample in plan.Batches.SelectMany(b => b.Samples))
        {
            if (!starts.TryGetValue(sample.Shard, out var ranges) || !Contains(ranges, sample.Row))
            {
                var id = sample.Shard >= 0 && sample.Shard < shards.Count ? shards[sample.Shard].Id : "?";
                throw new DataLoadException(
                    $"rank {plan.Rank}: the plan's batches need row {sample.Row} of shard '{id}' (#{sample.Shard}), which its reads do not list; the plan is inconsistent");
            }
        }
    }

    // Whether a row lies in one of these ranges (sorted by start, not overlapping).
    private static bool Contains(ShardRowRange[] ranges, long row)
    {
        int low = 0, high = ranges.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (row < ranges[mid].Start)
            {
                high = mid - 1;
            }
            else if (row >= ranges[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
