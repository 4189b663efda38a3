using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sora.Data.Parquet.Encodings;

/// <summary>Decodes PLAIN-encoded values into a <see cref="ColumnBuffer"/>, checking every length against the bytes present.</summary>
internal static class PlainDecoder
{
    /// <summary>
    /// Appends <paramref name="count"/> values of <paramref name="column"/>'s type from <paramref name="data"/>; returns the
    /// bytes used. Binary values are not copied when <paramref name="storeOffset"/> says where <paramref name="data"/>
    /// already lies in <paramref name="output"/>'s binary store (otherwise the page's values are copied there in one block).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> data, ParquetColumn column, int count, ColumnBuffer output, int storeOffset = -1)
    {
        switch (column.PhysicalType)
        {
            case PhysicalType.Int32:
                return Fixed<int>(data, count, output);
            case PhysicalType.Int64:
                return Fixed<long>(data, count, output);
            case PhysicalType.Float:
                return Fixed<float>(data, count, output);
            case PhysicalType.Double:
                return Fixed<double>(data, count, output);
            case PhysicalType.Boolean:
                if (count > (long)data.Length * 8)
                {
                    throw Short(count, "BOOLEAN", data.Length);
                }

                var bits = output.AppendValues<bool>(count);
                for (var i = 0; i < count; i++)
                {
                    bits[i] = (data[i >> 3] & (1 << (i & 7))) != 0;
                }

                return (count + 7) / 8;
            case PhysicalType.ByteArray:
                return ByteArrays(data, count, output, storeOffset);
            case PhysicalType.FixedLenByteArray:
                var width = column.TypeLength;
                if ((long)count * width > data.Length)
                {
                    throw Short(count, $"FIXED_LEN_BYTE_ARRAY({width})", data.Length);
                }

                var used = count * width;
                var start = InStore(data[..used], output, storeOffset);
                output.ReserveBinary(count);
                for (var i = 0; i < count; i++)
                {
                    output.RegisterBinary(start + (i * width), width);
                }

                return used;
            default:
                throw new ParquetFormatException($"physical type {column.PhysicalType} is not supported");
        }
    }

    private static int Fixed<T>(ReadOnlySpan<byte> data, int count, ColumnBuffer output)
        where T : unmanaged
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if ((long)count * size > data.Length)
        {
            throw Short(count, typeof(T).Name, data.Length);
        }

        // Parquet is little-endian, like every platform .NET runs this on.
        MemoryMarshal.Cast<byte, T>(data[..(count * size)]).CopyTo(output.AppendValues<T>(count));
        return count * size;
    }

    private static int ByteArrays(ReadOnlySpan<byte> data, int count, ColumnBuffer output, int storeOffset)
    {
        if (count > data.Length / 4)
        {
            throw Short(count, "BYTE_ARRAY", data.Length);
        }

        // Check every length first, so that only a valid page lands in the store.
        var position = 0;
        for (var i = 0; i < count; i++)
        {
            if (position > data.Length - 4)
            {
                throw Short(count, "BYTE_ARRAY", data.Length);
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data[position..]);
            if (length < 0 || length > data.Length - position - 4)
            {
                throw new ParquetFormatException($"BYTE_ARRAY value {i} claims {length} bytes but {data.Length - position - 4} remain in the page");
            }

            position += 4 + length;
        }

        var start = InStore(data[..position], output, storeOffset);
        output.ReserveBinary(count);
        position = 0;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data[position..]);
            output.RegisterBinary(start + position + 4, length);
            position += 4 + length;
        }

        return position;
    }

    /// <summary>Where <paramref name="data"/> lies in the output's store: where it already is, or where it is copied to.</summary>
    private static int InStore(ReadOnlySpan<byte> data, ColumnBuffer output, int storeOffset)
    {
        if (storeOffset >= 0)
        {
            return storeOffset;
        }

        var start = output.BinaryStore.Length;
        data.CopyTo(output.AppendStore(data.Length));
        return start;
    }

    private static ParquetFormatException Short(int count, string type, int bytes) =>
        new($"{count} PLAIN {type} values do not fit in the page's {bytes} value bytes");
}
