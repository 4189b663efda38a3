namespace Sora.Data.Parquet.Encodings;

/// <summary>
/// Decodes DELTA_BINARY_PACKED integers: a header (block size, miniblocks per block, value count, first value), then
/// blocks of a minimum delta, one bit width per miniblock, and the bit-packed deltas above the minimum.
/// </summary>
internal static class DeltaBinaryPacked
{
    /// <summary>Largest block size accepted (the spec's writers use 128).</summary>
    private const ulong MaxBlockSize = 1 << 16;

    /// <summary>Decodes <c>output.Length</c> values (arithmetic wraps, as the spec says); returns the bytes consumed.</summary>
    public static int Decode(ReadOnlySpan<byte> data, Span<long> output)
    {
        var position = 0;
        var blockSize = ReadUleb(data, ref position);
        var miniblocks = ReadUleb(data, ref position);
        var total = ReadUleb(data, ref position);
        var value = ZigZag(ReadUleb(data, ref position));
        if (blockSize == 0 || blockSize > MaxBlockSize || blockSize % 128 != 0 || miniblocks == 0 || miniblocks > blockSize || blockSize / miniblocks % 32 != 0)
        {
            throw new ParquetFormatException($"DELTA_BINARY_PACKED block of {blockSize} values in {miniblocks} miniblocks is not valid");
        }

        if (total < (ulong)output.Length)
        {
            throw new ParquetFormatException($"DELTA_BINARY_PACKED data holds {total} values where the page needs {output.Length}");
        }

        if (output.IsEmpty)
        {
            return position;
        }

        var perMiniblock = (int)(blockSize / miniblocks);
        output[0] = value;
        var written = 1;
        while (written < output.Length)
        {
            var minDelta = ZigZag(ReadUleb(data, ref position));
            if (position + (int)miniblocks > data.Length)
            {
                throw new ParquetFormatException("DELTA_BINARY_PACKED miniblock bit widths are cut off");
            }

            var widths = data.Slice(position, (int)miniblocks);
            position += (int)miniblocks;
            for (var m = 0; m < widths.Length && written < output.Length; m++)
            {
                var width = widths[m];
                if (width > 64)
                {
                    throw new ParquetFormatException($"DELTA_BINARY_PACKED bit width {width} exceeds 64");
                }

                var bytes = perMiniblock * width / 8;
                if (position + bytes > data.Length)
                {
                    throw new ParquetFormatException("a DELTA_BINARY_PACKED miniblock is cut off");
                }

                var packed = data.Slice(position, bytes);
                position += bytes;
                var n = Math.Min(perMiniblock, output.Length - written);
                for (var i = 0; i < n; i++)
                {
                    value = unchecked(value + minDelta + (long)ReadBits(packed, i * width, width));
                    output[written++] = value;
                }
            }
        }

        return position;
    }

    private static ulong ReadBits(ReadOnlySpan<byte> data, int bit, int width)
    {
        ulong result = 0;
        var got = 0;
        while (got < width)
        {
            var index = (bit + got) >> 3;
            var shift = (bit + got) & 7;
            var take = Math.Min(8 - shift, width - got);
            result |= (ulong)((data[index] >> shift) & ((1 << take) - 1)) << got;
            got += take;
        }

        return result;
    }

    private static ulong ReadUleb(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new ParquetFormatException("DELTA_BINARY_PACKED data is cut off");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new ParquetFormatException("a DELTA_BINARY_PACKED integer is longer than 10 bytes");
    }

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
