using System.Buffers;
using System.Buffers.Binary;

namespace Sora.Data.Parquet.Encodings;

/// <summary>A growable byte buffer on pooled arrays, reused from page to page.</summary>
internal sealed class ByteBuffer : IDisposable
{
    private byte[] array;

    public ByteBuffer(int capacity = 4096)
    {
        array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 16));
    }

    public int Length { get; private set; }

    public Span<byte> Written => array.AsSpan(0, Length);

    public byte[] Array => array;

    public void Clear() => Length = 0;

    /// <summary>Drops everything after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => Length = Math.Min(length, Length);

    /// <summary>A span of <paramref name="count"/> bytes at the end, already counted as written.</summary>
    public Span<byte> Append(int count)
    {
        Ensure(count);
        var span = array.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void Append(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Append(bytes.Length));

    public void AppendByte(byte value) => Append(1)[0] = value;

    public void AppendInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Append(4), value);

    public void AppendUleb(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            array[Length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        array[Length++] = (byte)value;
    }

    /// <summary>Grows so that <paramref name="extra"/> more bytes fit.</summary>
    public void Ensure(int extra)
    {
        var needed = (long)Length + extra;
        if (needed <= array.Length)
        {
            return;
        }

        if (needed > System.Array.MaxLength)
        {
            throw new InvalidOperationException($"a Parquet page buffer cannot exceed {System.Array.MaxLength} bytes");
        }

        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(System.Array.MaxLength, Math.Max(needed, (long)array.Length * 2)));
        array.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(array);
        array = bigger;
    }

    /// <summary>Makes room for exactly <paramref name="length"/> bytes from the start, dropping the content.</summary>
    public Span<byte> Reset(int length)
    {
        Length = 0;
        Ensure(length);
        Length = length;
        return array.AsSpan(0, length);
    }

    public void Dispose()
    {
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
            array = [];
        }
    }
}
