using Sora.Data.Loading;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Loading;

public class SampleOrderTests
{
    private static readonly IReadOnlyList<ShardInfo> Shards = IndexDataset.Create(7, 13, 0, 5, 11, 9, 6).Shards;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Every_epoch_is_a_permutation_of_all_samples_and_addresses_agree_with_the_shard_layout(int window)
    {
        var order = new SampleOrder(Shards, seed: 11, window);
        order.SamplesPerEpoch.Should().Be(51);
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var addresses = Enumerable.Range(0, 51).Select(p => order.At(epoch, p)).ToArray();
            addresses.Select(a => a.Index).Should().BeEquivalentTo(Enumerable.Range(0, 51).Select(i => (long)i));
            foreach (var address in addresses)
            {
                address.Row.Should().BeInRange(0, Shards[address.Shard].Rows - 1);
                address.Index.Should().Be(Shards.Take(address.Shard).Sum(s => s.Rows) + address.Row);
            }
        }
    }

    [Fact]
    public void The_order_depends_on_seed_and_epoch_only_and_changes_with_either()
    {
        long[] Epoch(ulong seed, int epoch) => Enumerable.Range(0, 51).Select(p => new SampleOrder(Shards, seed, 2).At(epoch, p).Index).ToArray();

        Epoch(5, 0).Should().Equal(Epoch(5, 0));
        Epoch(5, 1).Should().NotEqual(Epoch(5, 0));
        Epoch(6, 0).Should().NotEqual(Epoch(5, 0));
    }

    [Fact]
    public void A_window_of_shards_is_read_before_the_next_so_few_shards_are_in_use_at_once()
    {
        // A shard is "in use" from its first to its last sample in the epoch; count how many are in use at worst.
        static int MostShardsInUse(SampleOrder order)
        {
            var shards = Enumerable.Range(0, (int)order.SamplesPerEpoch).Select(p => order.At(0, p).Shard).ToArray();
            var spans = shards.Distinct().Select(s => (First: Array.IndexOf(shards, s), Last: Array.LastIndexOf(shards, s))).ToArray();
            return Enumerable.Range(0, shards.Length).Max(p => spans.Count(span => span.First <= p && p <= span.Last));
        }

        MostShardsInUse(new SampleOrder(Shards, seed: 3, shardWindow: 1)).Should().Be(1);
        MostShardsInUse(new SampleOrder(Shards, seed: 3, shardWindow: 2)).Should().Be(2);
        MostShardsInUse(new SampleOrder(Shards, seed: 3, shardWindow: Shards.Count)).Should().Be(6, "one window over all shards mixes all six non-empty shards");
    }

    [Fact]
    public void Advance_and_From_cross_epoch_boundaries()
    {
        var order = new SampleOrder(Shards, seed: 1, shardWindow: 3);
        var cursor = order.Advance(order.Start(), 49);
        cursor.Should().Be(order.Start() with { Epoch = 0, SamplesConsumed = 49 });
        order.From(cursor, 4).Should().Equal(order.At(0, 49), order.At(0, 50), order.At(1, 0), order.At(1, 1));
        order.Advance(cursor, 2 + 51 + 3).Should().Be(order.Start() with { Epoch = 2, SamplesConsumed = 3 });
    }

    [Fact]
    public void A_dataset_without_rows_and_a_window_below_one_are_rejected()
    {
        var empty = () => new SampleOrder([new ShardInfo("a", 0)], 1, 1);
        empty.Should().Throw<ArgumentException>().WithMessage("*1 shards hold no rows*");
        var window = () => new SampleOrder(Shards, 1, 0);
        window.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*shard_window must be >= 1 (got 0)*");
    }
}
