using Sora.Data.Parquet;
using Sora.Data.Parquet.Encodings;

namespace Sora.Data.Tests.Parquet.Encodings;

public class DeltaBinaryPackedTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(129)]
    [InlineData(1000)]
    public void Values_written_by_a_reference_encoder_decode(int count)
    {
        var random = new Random(count);
        var values = Enumerable.Range(0, count).Select(i => i % 50 == 0 ? long.MinValue + i : (random.NextInt64(-1_000_000, 1_000_000) * (i % 3))).ToArray();
        var encoded = Encode(values);
        var decoded = new long[count];

        var consumed = DeltaBinaryPacked.Decode(encoded.Concat(new byte[] { 0xAB, 0xCD }).ToArray(), decoded);

        decoded.Should().Equal(values);
        consumed.Should().Be(encoded.Length, "the decoder reports where the next section starts");
    }

    [Fact]
    public void Delta_byte_arrays_rebuild_values_from_shared_prefixes()
    {
        string[] words = ["axis", "axle", "babble", "babby", "babe", string.Empty, "b"];
        var prefixes = new long[words.Length];
        for (var i = 1; i < words.Length; i++)
        {
            var (a, b) = (words[i - 1], words[i]);
            while (prefixes[i] < Math.Min(a.Length, b.Length) && a[(int)prefixes[i]] == b[(int)prefixes[i]])
            {
                prefixes[i]++;
            }
        }

        var suffixes = words.Select((w, i) => w[(int)prefixes[i]..]).ToArray();
        var data = Encode(prefixes).Concat(Encode(suffixes.Select(s => (long)s.Length).ToArray())).Concat(System.Text.Encoding.UTF8.GetBytes(string.Concat(suffixes))).ToArray();
        using var output = new ColumnBuffer(new ParquetSchema(ParquetField.String("w")).Column("w"));

        ValueDecoders.DeltaByteArrays(data, words.Length, output);

        Enumerable.Range(0, words.Length).Select(output.GetString).Should().Equal(words);
    }

    [Fact]
    public void A_header_with_an_invalid_block_is_refused()
    {
        byte[] data = [100, 4, 10, 0]; // block size 100 is not a multiple of 128

        var act = () => DeltaBinaryPacked.Decode(data, new long[3]);

        act.Should().Throw<ParquetFormatException>().WithMessage("*block of 100 values in 4 miniblocks is not valid*");
    }

    [Fact]
    public void Fewer_values_than_the_page_needs_are_refused()
    {
        var data = Encode([1, 2, 3]);

        var act = () => DeltaBinaryPacked.Decode(data, new long[4]);

        act.Should().Throw<ParquetFormatException>().WithMessage("*holds 3 values where the page needs 4*");
    }

    /// <summary>A straightforward DELTA_BINARY_PACKED encoder (blocks of 128 in 4 miniblocks of 32), after the spec.</summary>
    private static byte[] Encode(long[] values)
    {
        var output = new List<byte>();
        void Uleb(ulong v)
        {
            while (v >= 0x80)
            {
                output.Add((byte)(v | 0x80));
                v >>= 7;
            }

            output.Add((byte)v);
        }

        static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
        Uleb(128);
        Uleb(4);
        Uleb((ulong)values.Length);
        Uleb(values.Length > 0 ? ZigZag(values[0]) : 0);
        var deltas = values.Skip(1).Select((v, i) => unchecked(v - values[i])).ToArray();
        for (var start = 0; start < deltas.Length; start += 128)
        {
            var block = deltas.Skip(start).Take(128).ToArray();
            var min = block.Min();
            Uleb(ZigZag(min));
            var miniblocks = Enumerable.Range(0, 4).Select(m => block.Skip(m * 32).Take(32).Select(d => unchecked((ulong)(d - min))).ToArray()).ToArray();
            var widths = miniblocks.Select(m => m.Length == 0 ? 0 : 64 - (int)ulong.LeadingZeroCount(m.Max())).ToArray();
            output.AddRange(widths.Select(w => (byte)w));
            for (var m = 0; m < 4 && miniblocks[m].Length > 0; m++)
            {
                var bits = new bool[32 * widths[m]];
                for (var i = 0; i < miniblocks[m].Length; i++)
                {
                    for (var b = 0; b < widths[m]; b++)
                    {
                        bits[(i * widths[m]) + b] = ((miniblocks[m][i] >> b) & 1) != 0;
                    }
                }

                for (var i = 0; i < bits.Length; i += 8)
                {
                    output.Add((byte)Enumerable.Range(0, 8).Sum(b => bits[i + b] ? 1 << b : 0));
                }
            }
        }

        return output.ToArray();
    }
}
