using System.Buffers.Binary;

namespace Sora.Data.Parquet.Compression;

/// <summary>
/// Decodes raw Snappy blocks straight into the caller's buffer (IronSnappy encodes; decoding is here so that pages
/// decompress into reused buffers, and so that every offset and length in hostile input is checked).
/// </summary>
internal static class SnappyDecoder
{
    /// <summary>Decompresses <paramref name="source"/> into exactly <c>destination.Length</c> bytes, or throws <see cref="ParquetFormatException"/>.</summary>
    public static void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var position = 0;
        ulong declared = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (shift > 28 || position >= source.Length)
            {
                throw new ParquetFormatException("corrupt SNAPPY data: bad length preamble");
            }

            var b = source[position++];
            declared |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        if (declared != (ulong)destination.Length)
        {
            throw new ParquetFormatException($"SNAPPY data holds {declared} bytes but the page header says {destination.Length}");
        }

        var written = 0;
        while (position < source.Length)
        {
            var tag = source[position++];
            int length, offset;
            switch (tag & 3)
            {
                case 0:
                    length = tag >> 2;
                    if (length >= 60)
                    {
                        var extra = length - 59;
                        if (position + extra > source.Length)
                        {
                            throw Corrupt("a literal's length is cut off");
                        }

                        uint value = 0;
                        for (var i = 0; i < extra; i++)
                        {
                            value |= (uint)source[position + i] << (8 * i);
                        }

                        position += extra;
                        if (value >= int.MaxValue)
                        {
                            throw Corrupt("a literal is too long");
                        }

                        length = (int)value;
                    }

                    length++;
                    if (length > source.Length - position || length > destination.Length - written)
                    {
                        throw Corrupt("a literal runs past the end of the input or output");
                    }

                    source.Slice(position, length).CopyTo(destination[written..]);
                    position += length;
                    written += length;
                    continue;
                case 1:
                    if (position >= source.Length)
                    {
                        throw Corrupt("a copy is cut off");
                    }

                    length = 4 + ((tag >> 2) & 7);
                    offset = ((tag >> 5) << 8) | source[position++];
                    break;
                case 2:
                    if (position + 2 > source.Length)
                    {
                        throw Corrupt("a copy is cut off");
                    }

                    length = 1 + (tag >> 2);
                    offset = BinaryPrimitives.ReadUInt16LittleEndian(source[position..]);
                    position += 2;
                    break;
                default:
                    if (position + 4 > source.Length)
                    {
                        throw Corrupt("a copy is cut off");
                    }

                    length = 1 + (tag >> 2);
                    var wide = BinaryPrimitives.ReadUInt32LittleEndian(source[position..]);
                    position += 4;
                    if (wide > int.MaxValue)
                    {
                        throw Corrupt("a copy offset is out of range");
                    }

                    offset = (int)wide;
                    break;
            }

            if (offset <= 0 || offset > written || length > destination.Length - written)
            {
                throw Corrupt($"a copy of {length} bytes from {offset} back does not fit (at output byte {written})");
            }

            Copy(destination, written, offset, length);
            written += length;
        }

        if (written != destination.Length)
        {
            throw Corrupt($"it ends after {written} of {destination.Length} bytes");
        }
    }

    private static void Copy(Span<byte> output, int position, int offset, int length)
    {
        var from = position - offset;
        if (offset >= length)
        {
            output.Slice(from, length).CopyTo(output[position..]);
            return;
        }

        // Overlapping copy repeats the last `offset` bytes; the already-repeated window doubles each step.
        while (length > 0)
        {
            var n = Math.Min(position - from, length);
            output.Slice(from, n).CopyTo(output[position..]);
            position += n;
            length -= n;
        }
    }

    private static ParquetFormatException Corrupt(string problem) => new($"corrupt SNAPPY data: {problem}");
}
