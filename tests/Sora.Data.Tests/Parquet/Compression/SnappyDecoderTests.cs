using Sora.Data.Parquet;
using Sora.Data.Parquet.Compression;

namespace Sora.Data.Tests.Parquet.Compression;

public class SnappyDecoderTests
{
    public static TheoryData<string, byte[]> Inputs()
    {
        var random = new Random(3);
        var noise = new byte[70_000];
        random.NextBytes(noise);
        var data = new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "one byte", [42] },
            { "noise", noise },
            { "zeros", new byte[100_000] },
        };
        foreach (var period in new[] { 2, 3, 5, 7, 8, 9, 13, 31, 64, 1000 })
        {
            data.Add($"period {period}", Enumerable.Range(0, 50_000).Select(i => (byte)((i % period) * 37)).ToArray());
        }

        // Runs and literals interleaved, like frames of flat colour with a shape.
        data.Add("runs", Enumerable.Range(0, 80_000).Select(i => (byte)(i % 1000 < 900 ? 200 : random.Next(256))).ToArray());
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void What_IronSnappy_encodes_decodes_to_the_same_bytes(string name, byte[] input)
    {
        var encoded = IronSnappy.Snappy.Encode(input);
        var output = new byte[input.Length];

        SnappyDecoder.Decompress(encoded, output);

        output.Should().Equal(input, name);
    }

    [Fact]
    public void A_copy_reaching_before_the_start_is_corrupt()
    {
        // Length 3, then a 2-byte-offset copy of 4 bytes from 10 back: only 0 bytes are written yet.
        byte[] block = [3, 0b0000_1110, 10, 0];

        var act = () => SnappyDecoder.Decompress(block, new byte[3]);

        act.Should().Throw<ParquetFormatException>().WithMessage("corrupt SNAPPY data: a copy of 4 bytes from 10 back does not fit*");
    }

    [Fact]
    public void Output_shorter_than_declared_is_corrupt()
    {
        var encoded = IronSnappy.Snappy.Encode(new byte[1000]);

        var act = () => SnappyDecoder.Decompress(encoded.AsSpan(0, encoded.Length - 1), new byte[1000]);

        act.Should().Throw<ParquetFormatException>();
    }

    [Fact]
    public void A_declared_length_that_differs_from_the_page_header_is_refused()
    {
        var encoded = IronSnappy.Snappy.Encode(new byte[1000]);

        var act = () => SnappyDecoder.Decompress(encoded, new byte[999]);

        act.Should().Throw<ParquetFormatException>().WithMessage("SNAPPY data holds 1000 bytes but the page header says 999");
    }
}
