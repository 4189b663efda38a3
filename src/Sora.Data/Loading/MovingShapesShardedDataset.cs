using Sora.Data.Synthetic;

namespace Sora.Data.Loading;

/// <summary>
/// The synthetic moving-shapes dataset seen as shards: items [0, count) of a generator, cut into shards of
/// <c>shardRows</c> items (the last may be shorter). Rows are generated when read, so nothing is held in memory.
/// </summary>
public sealed class MovingShapesShardedDataset : IShardedDataset<MovingShapesSample>
{
    private readonly MovingShapesGenerator _generator;
    private readonly int _shardRows;

    public MovingShapesShardedDataset(MovingShapesGenerator generator, long count, int shardRows)
    {
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardRows, 1);
        _shardRows = shardRows;
        var shards = (int)((count + shardRows - 1) / shardRows);

        // The options decide every pixel, so they are part of each shard's version: other options, another fingerprint.
        var version = $"seed={generator.Seed};options={OptionsKey(generator.Options)}";
        Shards = Enumerable.Range(0, shards)
            .Select(s => new ShardInfo($"moving-shapes-{s:D5}", Math.Min(shardRows, count - ((long)s * shardRows)), version))
            .ToArray();
    }

    public IReadOnlyList<ShardInfo> Shards { get; }

    public IShardReader<MovingShapesSample> Open(int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, Shards.Count);
        return new Reader(this, shard);
    }

    private static string OptionsKey(MovingShapesOptions o) => string.Join(
        ";",
        string.Join(",", o.Colors.Select(c => $"{c.Name}{c.Rgb}")),
        string.Join(",", o.Backgrounds.Select(c => $"{c.Name}{c.Rgb}")),
        string.Join(",", o.Shapes),
        string.Join(",", o.Directions),
        string.Join(",", o.Lengths),
        string.Join(",", o.Sizes),
        o.MinShapeFraction,
        o.MaxShapeFraction,
        o.MinSpeed,
        o.MaxSpeed,
        o.MinTravelFraction,
        o.Fps);

    private sealed class Reader(MovingShapesShardedDataset dataset, int shard) : IShardReader<MovingShapesSample>
    {
        public IReadOnlyList<MovingShapesSample> ReadRows(long start, int count)
        {
            var info = dataset.Shards[shard];
            ShardRows.CheckRange(info.Id, info.Rows, start, count);
            var first = ((long)shard * dataset._shardRows) + start;
            return Enumerable.Range(0, count).Select(i => dataset._generator.Generate(first + i)).ToArray();
        }

        public void Dispose()
        {
        }
    }
}
