namespace Sora.Data.Loading;

/// <summary>
/// Carries out one rank's <see cref="RankShardPlan"/> against a dataset: opens only the planned shards, reads the rows
/// of a few batches at a time (<c>readAheadBatches</c>) as contiguous runs grouped by shard, returns the samples in
/// plan order, and closes each shard after the last batch of the plan that needs it. A shard reader that decodes in
/// blocks (<see cref="IBlockShardReader{TSample}"/>) gets all of a shard's runs at once and decodes each block once.
/// </summary>
public static class PlannedBatchReader
{
    /// <summary>The plan's batches, read lazily <paramref name="readAheadBatches"/> at a time.</summary>
    /// <param name="dataset">The dataset the plan was made for.</param>
    /// <param name="plan">This rank's plan.</param>
    /// <param name="readAheadBatches">Batches whose rows are read together (>= 1).</param>
    /// <param name="decodeThreads">Blocks a block reader may decode at the same time (>= 1).</param>
    public static IEnumerable<LoadedBatch<TSample>> Read<TSample>(IShardedDataset<TSample> dataset, RankShardPlan plan, int readAheadBatches = 1, int decodeThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(readAheadBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeThreads, 1);
        CheckPlan(dataset.Shards, plan);
        return ReadChecked(dataset, plan, readAheadBatches, decodeThreads);
    }

    private static IEnumerable<LoadedBatch<TSample>> ReadChecked<TSample>(IShardedDataset<TSample> dataset, RankShardPlan plan, int readAheadBatches, int decodeThreads)
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
            for (var first = 0; first < plan.Batches.Count; first += readAheadBatches)
            {
                var batches = plan.Batches.Skip(first).Take(readAheadBatches).ToArray();
                var last = first + batches.Length - 1;
                var rows = new Dictionary<(int Shard, long Row), TSample>(batches.Sum(b => b.Samples.Count));
                foreach (var shard in ShardRowRange.Cover(batches.SelectMany(b => b.Samples), dataset.Shards).GroupBy(r => r.Shard))
                {
                    var ranges = shard.ToArray();
                    var read = ReadRanges(dataset, plan, open, ranges, decodeThreads);
                    var next = 0;
                    foreach (var range in ranges)
                    {
                        for (var i = 0; i < range.Count; i++)
                        {
                            rows[(range.Shard, range.Start + i)] = read[next++];
                        }
                    }
                }

                foreach (var shard in open.Keys.Where(s => lastUse[s] <= last).ToArray())
                {
                    open.Remove(shard, out var reader);
                    reader!.Dispose();
                }

                foreach (var batch in batches)
                {
                    yield return new LoadedBatch<TSample>(batch.Samples.Select(s => rows[(s.Shard, s.Row)]).ToArray(), batch.Samples, batch.CursorAfter);
                }
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

    // The rows of one shard's runs, concatenated: in one call to a block reader, otherwise run by run.
    private static IReadOnlyList<TSample> ReadRanges<TSample>(
        IShardedDataset<TSample> dataset, RankShardPlan plan, Dictionary<int, IShardReader<TSample>> open, ShardRowRange[] ranges, int decodeThreads)
    {
        var reader = Reader(dataset, plan, open, ranges[0]);
        if (reader is IBlockShardReader<TSample> blocks && ranges.Length > 1)
        {
            var expected = ranges.Sum(r => r.Count);
            var rows = Guarded(plan, ranges[0], $"{ranges.Length} runs of shard '{ranges[0].ShardId}' (#{ranges[0].Shard}) in rows [{ranges[0].Start}, {ranges[^1].End})", () => blocks.ReadRanges(ranges, decodeThreads));
            return rows.Count == expected
                ? rows
                : throw new DataLoadException($"rank {plan.Rank} of {plan.WorldSize}: shard '{ranges[0].ShardId}' (#{ranges[0].Shard}) returned {rows.Count} rows instead of {expected}") { Range = ranges[0] };
        }

        var all = new List<TSample>(ranges.Sum(r => r.Count));
        foreach (var range in ranges)
        {
            all.AddRange(Guarded(plan, range, range.ToString(), () =>
            {
                var rows = reader.ReadRows(range.Start, range.Count);
                return rows.Count == range.Count ? rows : throw new InvalidDataException($"the shard returned {rows.Count} rows instead of {range.Count}");
            }));
        }

        return all;
    }

    private static IShardReader<TSample> Reader<TSample>(IShardedDataset<TSample> dataset, RankShardPlan plan, Dictionary<int, IShardReader<TSample>> open, ShardRowRange range) =>
        Guarded(plan, range, range.ToString(), () =>
        {
            if (!open.TryGetValue(range.Shard, out var reader))
            {
                reader = dataset.Open(range.Shard);
                open[range.Shard] = reader;
            }

            return reader;
        });

    private static T Guarded<T>(RankShardPlan plan, ShardRowRange range, string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not DataLoadException and not OperationCanceledException)
        {
            throw new DataLoadException($"rank {plan.Rank} of {plan.WorldSize}: reading {what} failed: {e.Message}", e) { Range = range };
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
