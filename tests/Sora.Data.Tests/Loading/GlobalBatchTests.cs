using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class GlobalBatchTests
{
    [Fact]
    public void Rank_slices_are_contiguous_equal_and_cover_the_global_batch_in_rank_order()
    {
        var batch = Enumerable.Range(100, 12).ToArray();
        foreach (var world in new[] { 1, 2, 3, 4, 6, 12 })
        {
            var slices = Enumerable.Range(0, world).Select(r => GlobalBatch.RankSlice(batch, r, world)).ToArray();
            slices.Should().OnlyContain(s => s.Count == 12 / world);
            slices.SelectMany(s => s).Should().Equal(batch);
        }
    }

    [Fact]
    public void A_global_batch_that_does_not_split_evenly_names_both_numbers()
    {
        var act = () => GlobalBatch.RankSlice(10, 0, 4);
        act.Should().Throw<ArgumentException>().WithMessage("*global batch size 10*world size 4*");
        var rank = () => GlobalBatch.RankSlice(8, 4, 4);
        rank.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*rank 4 is outside a world of 4*");
    }
}
