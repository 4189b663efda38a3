using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class ShardRowRangeTests
{
    [Fact]
    public void Cover_merges_adjacent_rows_of_a_shard_and_orders_by_shard_then_row()
    {
        ShardInfo[] shards = [new("a", 10), new("b", 10)];
        SampleAddress[] samples = [new(13, 1, 3), new(4, 0, 4), new(12, 1, 2), new(5, 0, 5), new(3, 0, 3), new(9, 0, 9), new(5, 0, 5)];
        ShardRowRange.Cover(samples, shards).Should().Equal(
            new ShardRowRange(0, "a", 3, 3),
            new ShardRowRange(0, "a", 9, 1),
            new ShardRowRange(1, "b", 2, 2));
    }
}
