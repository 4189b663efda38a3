using System.IO.Compression;
using Sora.Data.Parquet.Encodings;

namespace Sora.Data.Parquet.Compression;

/// <summary>Compresses and decompresses page bodies with the codecs this library supports: none, SNAPPY, GZIP and ZSTD.</summary>
internal static class PageCompression
{
    public static bool IsSupported(CompressionCodec codec) =>
        codec is CompressionCodec.None or CompressionCodec.Snappy or CompressionCodec.Gzip or CompressionCodec.Zstd;

    /// <summary>Appends <paramref name="source"/> compressed with <paramref name="codec"/> to <paramref name="output"/>.</summary>
    public static void Compress(CompressionCodec codec, ReadOnlySpan<byte> source, ByteBuffer output, int zstdLevel)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                output.Append(source);
                break;
            case CompressionCodec.Snappy:
                output.Append(IronSnappy.Snappy.Encode(source));
                break;
            case CompressionCodec.Gzip:
                using (var stream = new ByteBufferStream(output))
                using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(source);
                }

                break;
            case CompressionCodec.Zstd:
                var start = output.Length;
                var bound = ZstdLibrary.CompressBound(source.Length);
                var written = ZstdLibrary.Compress(source, output.Append(bound), zstdLevel);
                output.Truncate(start + written);
                break;
            default:
                throw new NotSupportedException($"writing {codec} is not supported; use None, Snappy, Gzip or Zstd");
        }
    }

    /// <summary>
    /// Checks, before a buffer is allocated, that the size the compressed data itself declares (Snappy preamble, GZIP
    /// trailer, ZSTD frame header) agrees with <paramref name="expected"/> from the page header, so a corrupt header
    /// cannot make the reader allocate far more than the data could fill.
    /// </summary>
    public static void CheckDeclaredSize(CompressionCodec codec, ReadOnlySpan<byte> source, int expected)
    {
        switch (codec)
        {
            case CompressionCodec.None when source.Length != expected:
                throw new ParquetFormatException($"an uncompressed page holds {source.Length} bytes but its header says {expected}");
            case CompressionCodec.Snappy:
                ulong declared = 0;
                for (int i = 0, shift = 0; i < Math.Min(source.Length, 5); i++, shift += 7)
                {
                    declared |= (ulong)(source[i] & 0x7F) << shift;
                    if ((source[i] & 0x80) == 0)
                    {
                        if (declared != (ulong)expected)
                        {
                            throw new ParquetFormatException($"SNAPPY data holds {declared} bytes but the page header says {expected}");
                        }

                        return;
                    }
                }

                throw new ParquetFormatException("corrupt SNAPPY data: bad length preamble");
            case CompressionCodec.Gzip:
                // ISIZE: the uncompressed length modulo 2^32, in the last four bytes of a gzip member.
                if (source.Length < 18 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(source[^4..]) != (uint)expected)
                {
                    throw new ParquetFormatException($"the GZIP data does not end with the size the page header says ({expected} bytes)");
                }

                break;
            case CompressionCodec.Zstd:
                // libzstd's frames may omit the content size; then cap the ratio (ZSTD cannot beat about 1:32768 anyway).
                if (expected > 64 * 1024 && (long)source.Length * 32768 < expected)
                {
                    throw new ParquetFormatException($"{source.Length} bytes of ZSTD data cannot hold the {expected} bytes the page header says");
                }

                break;
        }
    }

    /// <summary>Decompresses <paramref name="source"/> into exactly <c>destination.Length</c> bytes, or throws <see cref="ParquetFormatException"/>.</summary>
    public static void Decompress(CompressionCodec codec, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                if (source.Length != destination.Length)
                {
                    throw new ParquetFormatException($"an uncompressed page holds {source.Length} bytes but its header says {destination.Length}");
                }

                source.CopyTo(destination);
                break;
            case CompressionCodec.Snappy:
                SnappyDecoder.Decompress(source, destination);
                break;
            case CompressionCodec.Gzip:
                DecompressGzip(source, destination);
                break;
            case CompressionCodec.Zstd:
                ZstdLibrary.Decompress(source, destination);
                break;
            default:
                throw new ParquetFormatException($"compression codec {codec} is not supported (only None, Snappy, Gzip, Zstd)");
        }
    }

    private static unsafe void DecompressGzip(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        try
        {
            fixed (byte* pointer = source)
            {
                using var input = new UnmanagedMemoryStream(pointer, source.Length);
                using var gzip = new GZipStream(input, CompressionMode.Decompress);
                var total = 0;
                while (total < destination.Length)
                {
                    var read = gzip.Read(destination[total..]);
                    if (read == 0)
                    {
                        throw new ParquetFormatException($"GZIP data decompressed to {total} bytes but the page header says {destination.Length}");
                    }

                    total += read;
                }

                Span<byte> probe = stackalloc byte[1];
                if (gzip.Read(probe) != 0)
                {
                    throw new ParquetFormatException($"GZIP data decompresses to more than the {destination.Length} bytes the page header says");
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new ParquetFormatException($"corrupt GZIP data: {e.Message}", e);
        }
    }
}
