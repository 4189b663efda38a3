using Sora.Data.Packing;

namespace Sora.Data.Tests.Packing;

public class SequencePackerTests
{
    // Images (1 frame) and videos of several sizes, as token grids.
    private static readonly TokenGrid[] Grids =
    [
        new(1, 4, 4), new(4, 4, 4), new(2, 3, 5), new(1, 8, 4), new(4, 2, 4), new(1, 2, 2), new(3, 4, 4), new(1, 4, 6),
    ];

    [Fact]
    public void First_fit_decreasing_places_every_sample_once_within_the_budget()
    {
        var batch = new SequencePacker(tokenBudget: 64).Pack(Grids);
        batch.Items.Should().Be(Grids.Length);
        batch.Sequences.SelectMany(s => s.Segments).Select(s => s.Item).Should().BeEquivalentTo(Enumerable.Range(0, Grids.Length));
        foreach (var sequence in batch.Sequences)
        {
            sequence.UsedTokens.Should().BeLessThanOrEqualTo(64);
            var offset = 0;
            foreach (var segment in sequence.Segments)
            {
                segment.Offset.Should().Be(offset, "samples are laid end to end");
                segment.Grid.Should().Be(Grids[segment.Item]);
                offset += segment.Tokens;
            }
        }

        // 16+64+30+32+32+4+48+24 = 250 tokens: four sequences of 64 are the least possible, and FFD finds them.
        batch.Sequences.Should().HaveCount(4);
        batch.UsedTokens.Should().Be(250);
        batch.PaddingWaste.Should().BeApproximately(1 - (250.0 / 256), 1e-12);
        batch.Sequences.Sum(s => s.PaddingWaste * 64).Should().BeApproximately(6, 1e-9);
    }

    [Fact]
    public void The_layout_depends_on_the_sizes_not_on_the_order_they_arrive_in()
    {
        var packer = new SequencePacker(64);
        static long[][] Layout(PackedBatch batch, IReadOnlyList<TokenGrid> grids) =>
            batch.Sequences.Select(s => s.Segments.Select(x => grids[x.Item].Tokens).ToArray()).ToArray();

        var reversed = Grids.Reverse().ToArray();
        Layout(packer.Pack(reversed), reversed).Should().BeEquivalentTo(Layout(packer.Pack(Grids), Grids), o => o.WithStrictOrdering());
        Layout(packer.Pack(Grids), Grids)[0].Should().Equal([64], "the largest sample opens the first sequence");
    }

    [Fact]
    public void A_sample_larger_than_the_budget_is_named()
    {
        var act = () => new SequencePacker(32).Pack(Grids);
        act.Should().Throw<ArgumentException>().WithMessage("sample 1 has 4x4x4 tokens = 64 tokens, which does not fit*token_budget = 32*");
        var empty = () => new SequencePacker(32).Pack([]);
        empty.Should().Throw<ArgumentException>().WithMessage("there are no samples to pack*");
    }
}
