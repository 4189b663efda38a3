using Sora.Data.Parquet;
using Sora.Data.Parquet.Encodings;

namespace Sora.Data.Tests.Parquet.Encodings;

public class RleBitPackedHybridTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(20)]
    [InlineData(32)]
    public void Values_round_trip_at_every_bit_width(int bitWidth)
    {
        var random = new Random(bitWidth);
        var max = bitWidth == 32 ? int.MaxValue : (1 << bitWidth) - 1;
        // Mixed runs and noise, with lengths that are not multiples of 8.
        var values = new List<int>();
        while (values.Count < 5000)
        {
            var value = random.Next(max) + (random.Next(2) * (max == int.MaxValue ? 0 : 1));
            values.AddRange(Enumerable.Repeat(Math.Min(value, max), random.Next(2) == 0 ? 1 : random.Next(1, 40)));
        }

        using var buffer = new ByteBuffer();
        RleBitPackedHybrid.Encode(values.ToArray(), bitWidth, buffer);
        var decoded = new int[values.Count];
        RleBitPackedHybrid.Decode(buffer.Written, bitWidth, decoded);

        decoded.Should().Equal(values);
    }

    [Fact]
    public void The_spec_example_decodes()
    {
        // The format spec's bit-packing example: 0..7 at bit width 3 is one group: header (1 << 1) | 1, then 0x88 0xC6 0xFA.
        byte[] data = [0x03, 0x88, 0xC6, 0xFA];
        var values = new int[8];

        RleBitPackedHybrid.Decode(data, 3, values);

        values.Should().Equal(0, 1, 2, 3, 4, 5, 6, 7);
    }

    [Fact]
    public void A_run_whose_value_does_not_fit_the_bit_width_is_corrupt()
    {
        byte[] data = [8 << 1, 0x09]; // a run of 8 copies of 9, at bit width 3

        var act = () => RleBitPackedHybrid.Decode(data, 3, new int[8]);

        act.Should().Throw<ParquetFormatException>().WithMessage("*repeats 9, which does not fit in 3 bits*");
    }

    [Fact]
    public void Data_that_ends_early_is_corrupt()
    {
        byte[] data = [4 << 1, 0x01];

        var act = () => RleBitPackedHybrid.Decode(data, 1, new int[10]);

        act.Should().Throw<ParquetFormatException>().WithMessage("*ends after 4 of 10 values*");
    }
}
