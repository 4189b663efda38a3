using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class BucketTableTests
{
    [Fact]
    public void Resolution_and_frames_pick_the_batch_size_and_drive_the_bucket_sampler()
    {
        var table = BucketTable.Parse(new Dictionary<string, IReadOnlyDictionary<int, int>>
        {
            ["8x8"] = new Dictionary<int, int> { [1] = 6, [4] = 2 },
            ["8x12"] = new Dictionary<int, int> { [4] = 1 },
        });
        table.BatchSize((1, 8, 8)).Should().Be(6);
        table.BatchSize((4, 8, 8)).Should().Be(2);
        table.BatchSize((4, 8, 12)).Should().Be(1);

        (long, long, long)[] keys = [.. Enumerable.Repeat((1L, 8L, 8L), 12), .. Enumerable.Repeat((4L, 8L, 8L), 5), (4L, 8L, 12L)];
        var sampler = new BucketBatchSampler<(long, long, long)>(keys, table.BatchSize, seed: 3);
        var batches = Enumerable.Range(0, sampler.BatchesPerEpoch).Select(_ => sampler.Next()).ToArray();
        batches.Select(b => (keys[b[0]], b.Count)).Should().BeEquivalentTo(
            [((1L, 8L, 8L), 6), ((1L, 8L, 8L), 6), ((4L, 8L, 8L), 2), ((4L, 8L, 8L), 2), ((4L, 8L, 12L), 1)]);
    }

    [Fact]
    public void Unknown_shapes_fall_back_to_the_default_or_are_named()
    {
        var strict = new BucketTable([((1, 8, 8), 4)]);
        var act = () => strict.BatchSize((2, 8, 8));
        act.Should().Throw<KeyNotFoundException>().WithMessage("no bucket for 8x8 with 2 frames*buckets: 8x8 with 1 frames");
        new BucketTable([((1, 8, 8), 4)], defaultBatchSize: 3).BatchSize((2, 8, 8)).Should().Be(3);
    }

    [Theory]
    [InlineData("8by8", 1, 4, "*buckets.8by8: a resolution is written HxW*")]
    [InlineData("8x8", 0, 4, "*buckets.8x8.0: frame counts must be >= 1*")]
    [InlineData("8x8", 1, 0, "*8x8 with 1 frames has batch size 0*")]
    public void Bad_entries_name_the_key(string resolution, int frames, int batchSize, string message)
    {
        var act = () => BucketTable.Parse(new Dictionary<string, IReadOnlyDictionary<int, int>> { [resolution] = new Dictionary<int, int> { [frames] = batchSize } });
        act.Should().Throw<Exception>().WithMessage(message);
    }
}
