using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class BucketBatchSamplerTests
{
    private static readonly string[] Keys = [.. Enumerable.Repeat("32x32x8", 10), .. Enumerable.Repeat("32x32x1", 7), .. Enumerable.Repeat("48x32x8", 2)];

    [Fact]
    public void Every_batch_comes_from_one_bucket_and_an_epoch_covers_each_full_batch_once()
    {
        var sampler = new BucketBatchSampler<string>(Keys, key => key.EndsWith("x1", StringComparison.Ordinal) ? 3 : 4, seed: 7);
        sampler.BatchesPerEpoch.Should().Be(2 + 2);
        var seen = new List<int>();
        for (var i = 0; i < sampler.BatchesPerEpoch; i++)
        {
            var batch = sampler.Next();
            batch.Select(index => Keys[index]).Distinct().Should().ContainSingle();
            seen.AddRange(batch);
        }

        seen.Should().OnlyHaveUniqueItems();
        seen.Should().HaveCount(14);
        sampler.Cursor.Should().Be(new SamplerCursor(0, 4));
        sampler.Next();
        sampler.Cursor.Should().Be(new SamplerCursor(1, 1));
    }

    [Fact]
    public void The_order_depends_only_on_the_seed_and_resumes_exactly_from_a_cursor()
    {
        var a = new BucketBatchSampler<string>(Keys, _ => 2, seed: 1);
        var b = new BucketBatchSampler<string>(Keys, _ => 2, seed: 1);
        var c = new BucketBatchSampler<string>(Keys, _ => 2, seed: 2);
        var first = Enumerable.Range(0, 20).Select(_ => a.Next().ToArray()).ToList();
        Enumerable.Range(0, 20).Select(_ => b.Next().ToArray()).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        Enumerable.Range(0, 20).Select(_ => c.Next().ToArray()).Should().NotBeEquivalentTo(first, o => o.WithStrictOrdering());

        var resumed = new BucketBatchSampler<string>(Keys, _ => 2, seed: 1);
        var replay = new BucketBatchSampler<string>(Keys, _ => 2, seed: 1);
        for (var i = 0; i < 13; i++)
        {
            replay.Next();
        }

        resumed.Seek(replay.Cursor);
        Enumerable.Range(0, 7).Select(_ => resumed.Next().ToArray()).Should().BeEquivalentTo(first.Skip(13), o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_dataset_without_any_full_batch_is_rejected_with_the_bucket_sizes()
    {
        var act = () => new BucketBatchSampler<string>(["a", "a", "b"], _ => 3, seed: 0);
        act.Should().Throw<ArgumentException>().WithMessage("*a: 2 samples for batches of 3*b: 1 samples*");
    }

    [Fact]
    public void Rank_slices_of_each_global_batch_put_back_together_are_the_global_batch_on_any_world_size()
    {
        var global = new BucketBatchSampler<string>(Keys, key => key.EndsWith("x1", StringComparison.Ordinal) ? 6 : 2, seed: 5);
        var expected = Enumerable.Range(0, 9).Select(_ => global.Next().ToArray()).ToArray();
        foreach (var world in new[] { 1, 2 })
        {
            var ranks = Enumerable.Range(0, world).Select(_ => new BucketBatchSampler<string>(Keys, key => key.EndsWith("x1", StringComparison.Ordinal) ? 6 : 2, seed: 5)).ToArray();
            var together = Enumerable.Range(0, 9).Select(_ => ranks.Select((r, rank) => r.Next(rank, world)).SelectMany(s => s).ToArray()).ToArray();
            together.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        }

        var three = new BucketBatchSampler<string>(Keys, _ => 2, seed: 5);
        var act = () => three.Next(0, 3);
        act.Should().Throw<ArgumentException>().WithMessage("bucket *: batch size 2 is not a multiple of the world size 3*");
    }
}
