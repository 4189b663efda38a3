using System.Buffers.Binary;

namespace Sora.Data.Parquet.Encodings;

/// <summary>
/// The RLE / bit-packed hybrid encoding that carries definition and repetition levels and dictionary indices: runs of
/// one repeated value, and groups of eight values packed least-significant bit first.
/// </summary>
internal static class RleBitPackedHybrid
{
    /// <summary>Decodes exactly <c>output.Length</c> values of <paramref name="bitWidth"/> bits; throws on truncated or malformed input.</summary>
    public static void Decode(ReadOnlySpan<byte> data, int bitWidth, Span<int> output)
    {
        if (bitWidth is < 0 or > 32)
        {
            throw new ParquetFormatException($"bit width {bitWidth} is outside 0..32");
        }

        var position = 0;
        var written = 0;
        var valueBytes = (bitWidth + 7) / 8;
        var limit = bitWidth == 32 ? uint.MaxValue : (1u << bitWidth) - 1;
        while (written < output.Length)
        {
            if (position >= data.Length)
            {
                if (bitWidth == 0)
                {
                    output[written..].Clear();
                    return;
                }

                throw new ParquetFormatException($"RLE/bit-packed data ends after {written} of {output.Length} values");
            }

            var header = ReadUleb(data, ref position);
            if ((header & 1) == 0)
            {
                var count = header >> 1;
                if (position + valueBytes > data.Length)
                {
                    throw new ParquetFormatException("an RLE run's value is cut off");
                }

                uint value = 0;
                for (var i = 0; i < valueBytes; i++)
                {
                    value |= (uint)data[position + i] << (8 * i);
                }

                position += valueBytes;
                if (value > limit)
                {
                    throw new ParquetFormatException($"an RLE run repeats {value}, which does not fit in {bitWidth} bits");
                }

                var n = (int)Math.Min(count, (ulong)(output.Length - written));
                output.Slice(written, n).Fill((int)value);
                written += n;
            }
            else
            {
                var groups = header >> 1;
                var available = (ulong)(data.Length - position);
                var bytes = Math.Min(groups * (ulong)bitWidth, available);
                var values = bitWidth == 0 ? groups * 8 : Math.Min(groups * 8, bytes * 8 / (ulong)bitWidth);
                if (values == 0 && groups > 0 && bitWidth > 0)
                {
                    throw new ParquetFormatException("a bit-packed run is cut off");
                }

                var n = (int)Math.Min(values, (ulong)(output.Length - written));
                Unpack(data.Slice(position, (int)bytes), bitWidth, output.Slice(written, n));
                written += n;
                position += (int)bytes;
            }
        }
    }

    /// <summary>Appends <paramref name="values"/> (each below 2^<paramref name="bitWidth"/>) in the hybrid encoding.</summary>
    public static void Encode(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        var valueBytes = (bitWidth + 7) / 8;
        var i = 0;
        while (i < values.Length)
        {
            var run = RunLength(values, i);
            if (run >= 8)
            {
                output.AppendUleb((ulong)run << 1);
                var value = values[i];
                for (var b = 0; b < valueBytes; b++)
                {
                    output.AppendByte((byte)(value >> (8 * b)));
                }

                i += run;
                continue;
            }

            // Literal groups of eight until a long run starts on a group boundary (or the data ends).
            var start = i;
            do
            {
                i = Math.Min(i + 8, values.Length);
            }
            while (i < values.Length && RunLength(values, i) < 8);

            var groups = (i - start + 7) / 8;
            output.AppendUleb(((ulong)groups << 1) | 1);
            Pack(values[start..i], bitWidth, output.Append(groups * bitWidth));
        }
    }

    /// <summary>Bits needed for values up to <paramref name="max"/>.</summary>
    public static int BitWidth(int max) => max <= 0 ? 0 : 32 - int.LeadingZeroCount(max);

    /// <summary>Unpacks <c>output.Length</c> values packed LSB-first from <paramref name="data"/> (which holds enough bits).</summary>
    public static void Unpack(ReadOnlySpan<byte> data, int bitWidth, Span<int> output)
    {
        if (bitWidth == 0)
        {
            output.Clear();
            return;
        }

        if (bitWidth == 8)
        {
            for (var i = 0; i < output.Length; i++)
            {
                output[i] = data[i];
            }

            return;
        }

        var mask = bitWidth == 32 ? ulong.MaxValue >> 32 : (1UL << bitWidth) - 1;
        ulong buffer = 0;
        var bits = 0;
        var position = 0;
        for (var i = 0; i < output.Length; i++)
        {
            while (bits < bitWidth)
            {
                if (position + 4 <= data.Length && bits <= 32)
                {
                    buffer |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(data[position..]) << bits;
                    position += 4;
                    bits += 32;
                }
                else
                {
                    buffer |= (ulong)data[position++] << bits;
                    bits += 8;
                }
            }

            output[i] = (int)(buffer & mask);
            buffer >>= bitWidth;
            bits -= bitWidth;
        }
    }

    private static void Pack(ReadOnlySpan<int> values, int bitWidth, Span<byte> output)
    {
        output.Clear();
        if (bitWidth == 0)
        {
            return;
        }

        ulong buffer = 0;
        var bits = 0;
        var position = 0;
        foreach (var value in values)
        {
            buffer |= (ulong)(uint)value << bits;
            bits += bitWidth;
            while (bits >= 8)
            {
                output[position++] = (byte)buffer;
                buffer >>= 8;
                bits -= 8;
            }
        }

        if (bits > 0)
        {
            output[position] = (byte)buffer;
        }
    }

    private static int RunLength(ReadOnlySpan<int> values, int start)
    {
        var value = values[start];
        var end = start + 1;
        while (end < values.Length && values[end] == value)
        {
            end++;
        }

        return end - start;
    }

    private static ulong ReadUleb(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new ParquetFormatException("an RLE/bit-packed run header is cut off");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (result >> 1 > int.MaxValue)
                {
                    throw new ParquetFormatException($"an RLE/bit-packed run claims {result >> 1} values");
                }

                return result;
            }
        }

        throw new ParquetFormatException("an RLE/bit-packed run header is longer than 9 bytes");
    }
}
