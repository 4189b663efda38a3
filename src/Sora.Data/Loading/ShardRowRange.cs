namespace Sora.Data.Loading;

/// <summary>A contiguous run of rows of one shard: what a rank opens and reads.</summary>
/// <param name="Shard">Index of the shard in the dataset's shard list.</param>
/// <param name="ShardId">The shard's id (file name), so a rank can open it without the whole shard list.</param>
/// <param name="Start">First row.</param>
/// <param name="Count">Rows in the run.</param>
public sealed record ShardRowRange(int Shard, string ShardId, long Start, int Count)
{
    /// <summary>One past the last row.</summary>
    public long End => Start + Count;

    /// <summary>The fewest row runs, ordered by shard then row, that cover exactly the rows of <paramref name="samples"/>.</summary>
    public static IReadOnlyList<ShardRowRange> Cover(IEnumerable<SampleAddress> samples, IReadOnlyList<ShardInfo> shards)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(shards);
        var ranges = new List<ShardRowRange>();
        foreach (var group in samples.GroupBy(s => s.Shard).OrderBy(g => g.Key))
        {
            var rows = group.Select(s => s.Row).Distinct().Order().ToArray();
            var start = 0;
            for (var i = 1; i <= rows.Length; i++)
            {
                if (i == rows.Length || rows[i] != rows[i - 1] + 1 || i - start == int.MaxValue)
                {
                    ranges.Add(new ShardRowRange(group.Key, shards[group.Key].Id, rows[start], i - start));
                    start = i;
                }
            }
        }

        return ranges;
    }

    public override string ToString() => $"shard '{ShardId}' (#{Shard}) rows [{Start}, {End})";
}
