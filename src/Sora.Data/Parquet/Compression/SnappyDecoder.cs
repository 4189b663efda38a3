using System.Runtime.CompilerServices;

namespace Sora.Data.Parquet.Compression;

/// <summary>
/// Decodes raw Snappy blocks straight into the caller's buffer (IronSnappy encodes; decoding is here so that pages
/// decompress into reused buffers, and so that every offset and length in hostile input is checked before use).
/// </summary>
internal static class SnappyDecoder
{
    /// <summary>Decompresses <paramref name="source"/> into exactly <c>destination.Length</c> bytes, or throws <see cref="ParquetFormatException"/>.</summary>
    public static unsafe void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
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

        fixed (byte* sourceStart = source)
        fixed (byte* outputStart = destination)
        {
            var ip = sourceStart + position;
            var sourceEnd = sourceStart + source.Length;
            var op = outputStart;
            var outputEnd = outputStart + destination.Length;
            while (ip < sourceEnd)
            {
                uint tag = *ip++;
                long length;
                long offset;
                switch (tag & 3)
                {
                    case 0:
                        length = (tag >> 2) + 1;
                        if (length > 60)
                        {
                            var extra = (int)length - 60;
                            if (sourceEnd - ip < extra)
                            {
                                throw Corrupt("a literal's length is cut off");
                            }

                            long value = 0;
                            for (var i = 0; i < extra; i++)
                            {
                                value |= (long)ip[i] << (8 * i);
                            }

                            ip += extra;
                            length = value + 1;
                        }

                        if (length > sourceEnd - ip || length > outputEnd - op)
                        {
                            throw Corrupt("a literal runs past the end of the input or output");
                        }

                        if (length <= 16 && sourceEnd - ip >= 16 && outputEnd - op >= 16)
                        {
                            // Short literal: two unaligned 8-byte moves (the extra bytes are overwritten by what follows).
                            Unsafe.WriteUnaligned(op, Unsafe.ReadUnaligned<ulong>(ip));
                            Unsafe.WriteUnaligned(op + 8, Unsafe.ReadUnaligned<ulong>(ip + 8));
                        }
                        else
                        {
                            Buffer.MemoryCopy(ip, op, outputEnd - op, length);
                        }

                        ip += length;
                        op += length;
                        continue;
                    case 1:
                        if (ip >= sourceEnd)
                        {
                            throw Corrupt("a copy is cut off");
                        }

                        length = 4 + ((tag >> 2) & 7);
                        offset = ((tag >> 5) << 8) | *ip++;
                        break;
                    case 2:
                        if (sourceEnd - ip < 2)
                        {
                            throw Corrupt("a copy is cut off");
                        }

                        length = 1 + (tag >> 2);
                        offset = ip[0] | (ip[1] << 8);
                        ip += 2;
                        break;
                    default:
                        if (sourceEnd - ip < 4)
                        {
                            throw Corrupt("a copy is cut off");
                        }

                        length = 1 + (tag >> 2);
                        offset = (uint)(ip[0] | (ip[1] << 8) | (ip[2] << 16) | (ip[3] << 24));
                        ip += 4;
                        break;
                }

                if (offset == 0 || offset > op - outputStart || length > outputEnd - op)
                {
                    throw Corrupt($"a copy of {length} bytes from {offset} back does not fit (at output byte {op - outputStart})");
                }

                Copy(op, offset, length, outputEnd);
                op += length;
            }

            if (op != outputEnd)
            {
                throw Corrupt($"it ends after {op - outputStart} of {destination.Length} bytes");
            }
        }
    }

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="offset"/> back (the ranges may overlap: a repeating pattern).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(byte* op, long offset, long length, byte* outputEnd)
    {
        var from = op - offset;
        if (outputEnd - op < length + 8)
        {
            // Near the end: exact bytes only.
            for (long i = 0; i < length; i++)
            {
                op[i] = from[i];
            }

            return;
        }

        if (offset == 1)
        {
            Unsafe.InitBlockUnaligned(op, *from, (uint)length);
            return;
        }

        // Make the distance a multiple of the pattern that is at least 8, then move 8 bytes at a time (overrunning by
        // at most 7 bytes, which later output overwrites).
        var distance = offset;
        if (offset < 8)
        {
            distance = offset * ((8 + offset - 1) / offset);
            var head = distance - offset;
            for (long i = 0; i < head; i++)
            {
                op[i] = from[i];
            }

            op += head;
            length -= head;
        }

        while (length > 0)
        {
            Unsafe.WriteUnaligned(op, Unsafe.ReadUnaligned<ulong>(op - distance));
            op += 8;
            length -= 8;
        }
    }

    private static ParquetFormatException Corrupt(string problem) => new($"corrupt SNAPPY data: {problem}");
}
