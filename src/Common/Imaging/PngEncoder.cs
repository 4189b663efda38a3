using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Sora.Imaging;

/// <summary>
/// Writes 8-bit RGB PNG images (colour type 2, no interlace) per the PNG specification.
/// One source file compiled into each assembly that writes images (see src/Common/README.md).
/// </summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/> (height × width × 3 bytes, rows top to bottom) as a PNG file at <paramref name="path"/>.</summary>
    public static void WriteFile(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var png = Encode(width, height, rgb);
        try
        {
            File.WriteAllBytes(path, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write PNG '{path}': {e.Message}", e);
        }
    }

    /// <summary>The bytes of a PNG file holding <paramref name="rgb"/> (height × width × 3 bytes, rows top to bottom).</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var rowBytes = checked(width * 3);
        if (rgb.Length != checked(rowBytes * height))
        {
            throw new ArgumentException($"a {width}x{height} RGB image needs {rowBytes * (long)height} bytes, got {rgb.Length}", nameof(rgb));
        }

        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: truecolour
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method 0
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);

        WriteChunk(output, "IDAT"u8, Compress(rgb, rowBytes, height));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static byte[] Compress(ReadOnlySpan<byte> rgb, int rowBytes, int height)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Filter type 1 (Sub) per row: flat areas, which charts and synthetic frames are made of, become runs of zeros.
            var filtered = new byte[rowBytes + 1];
            filtered[0] = 1;
            for (var y = 0; y < height; y++)
            {
                var row = rgb.Slice(y * rowBytes, rowBytes);
                for (var i = 0; i < rowBytes; i++)
                {
                    filtered[i + 1] = (byte)(row[i] - (i >= 3 ? row[i - 3] : 0));
                }

                zlib.Write(filtered);
            }
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        output.Write(word);
    }
}
