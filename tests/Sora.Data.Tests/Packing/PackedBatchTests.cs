using Sora.Data.Packing;
using Sora.Torch;

namespace Sora.Data.Tests.Packing;

public class PackedBatchTests
{
    private static readonly TokenGrid[] Grids = [new(2, 2, 3), new(1, 3, 3), new(1, 1, 2), new(3, 2, 2)];

    [Fact]
    public void Segment_and_position_ids_describe_each_token_at_its_samples_native_size()
    {
        using var scope = Tensor.NewDisposeScope();
        var batch = new SequencePacker(tokenBudget: 16).Pack(Grids);
        var segments = batch.SegmentIds();
        var positions = batch.PositionIds();
        segments.Shape.Should().Equal(batch.Sequences.Count, 16);
        positions.Shape.Should().Equal(batch.Sequences.Count, 16, 3);

        var ids = segments.ToArray<long>();
        var coords = positions.ToArray<long>();
        for (var item = 0; item < Grids.Length; item++)
        {
            var segment = batch.Segment(item);
            var grid = Grids[item];
            var expected = new List<long>();
            for (var t = 0; t < grid.T; t++)
            {
                for (var h = 0; h < grid.H; h++)
                {
                    for (var w = 0; w < grid.W; w++)
                    {
                        expected.AddRange([t, h, w]);
                    }
                }
            }

            var first = (segment.Sequence * 16) + segment.Offset;
            ids.Skip(first).Take(segment.Tokens).Should().OnlyContain(id => id == item);
            coords.Skip(first * 3).Take(segment.Tokens * 3).Should().Equal(expected);
        }

        ids.Count(id => id == PackedBatch.PaddingSegment).Should().Be((batch.Sequences.Count * 16) - 12 - 9 - 2 - 12);
    }

    [Fact]
    public void Packing_tokens_and_unpacking_them_gives_each_sample_back()
    {
        using var scope = Tensor.NewDisposeScope();
        var batch = new SequencePacker(tokenBudget: 20).Pack(Grids);
        var perItem = Grids.Select((g, i) => Tensor.Full([g.Tokens, 5], i + 1.0)).ToArray();
        var packed = batch.PackTokens(perItem);
        packed.Shape.Should().Equal(batch.Sequences.Count, 20, 5);
        packed.Sum().ItemDouble().Should().Be(Grids.Select((g, i) => g.Tokens * 5.0 * (i + 1)).Sum(), "padding is zero");

        var back = batch.Unpack(packed);
        for (var i = 0; i < Grids.Length; i++)
        {
            back[i].Equal(perItem[i]).Should().BeTrue();
        }

        var wrong = () => batch.PackTokens([.. perItem.Take(3), Tensor.Zeros([3, 5])]);
        wrong.Should().Throw<ArgumentException>().WithMessage("sample 3: expected tokens (12, 5)*got [3, 5]*");
    }
}
