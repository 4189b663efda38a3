using System.Buffers;
using System.Runtime.InteropServices;

namespace Sora.Data.Parquet.Encodings;

/// <summary>The encodings DuckDB and Arrow write for Parquet v2: DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT.</summary>
internal static class ValueDecoders
{
    /// <summary>INT32/INT64 values in DELTA_BINARY_PACKED.</summary>
    public static void DeltaIntegers(ReadOnlySpan<byte> data, ParquetColumn column, int count, ColumnBuffer output)
    {
        var values = ArrayPool<long>.Shared.Rent(Math.Max(1, count));
        try
        {
            var decoded = values.AsSpan(0, count);
            DeltaBinaryPacked.Decode(data, decoded);
            switch (column.PhysicalType)
            {
                case PhysicalType.Int32:
                    var ints = output.AppendValues<int>(count);
                    for (var i = 0; i < count; i++)
                    {
                        ints[i] = unchecked((int)decoded[i]);
                    }

                    break;
                case PhysicalType.Int64:
                    decoded.CopyTo(output.AppendValues<long>(count));
                    break;
                default:
                    throw new ParquetFormatException($"DELTA_BINARY_PACKED cannot encode {column.PhysicalType}");
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(values);
        }
    }

    /// <summary>BYTE_ARRAY values in DELTA_LENGTH_BYTE_ARRAY: all lengths (delta-packed), then all bytes.</summary>
    public static void DeltaLengthByteArrays(ReadOnlySpan<byte> data, int count, ColumnBuffer output, int storeOffset)
    {
        var lengths = ArrayPool<long>.Shared.Rent(Math.Max(1, count));
        try
        {
            var decoded = lengths.AsSpan(0, count);
            var position = DeltaBinaryPacked.Decode(data, decoded);
            long total = 0;
            foreach (var length in decoded)
            {
                if (length < 0 || length > int.MaxValue)
                {
                    throw new ParquetFormatException($"a DELTA_LENGTH_BYTE_ARRAY length of {length}");
                }

                total += length;
            }

            if (total > data.Length - position)
            {
                throw new ParquetFormatException($"DELTA_LENGTH_BYTE_ARRAY values claim {total} bytes but {data.Length - position} remain");
            }

            int start;
            if (storeOffset >= 0)
            {
                start = storeOffset + position;
            }
            else
            {
                start = output.BinaryStore.Length;
                data.Slice(position, (int)total).CopyTo(output.AppendStore((int)total));
            }

            output.ReserveBinary(count);
            foreach (var length in decoded)
            {
                output.RegisterBinary(start, (int)length);
                start += (int)length;
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(lengths);
        }
    }

    /// <summary>BYTE_ARRAY values in DELTA_BYTE_ARRAY: prefix lengths shared with the previous value, suffix lengths, suffixes.</summary>
    public static void DeltaByteArrays(ReadOnlySpan<byte> data, int count, ColumnBuffer output)
    {
        var prefixes = ArrayPool<long>.Shared.Rent(Math.Max(1, count));
        var suffixes = ArrayPool<long>.Shared.Rent(Math.Max(1, count));
        try
        {
            var prefix = prefixes.AsSpan(0, count);
            var suffix = suffixes.AsSpan(0, count);
            var position = DeltaBinaryPacked.Decode(data, prefix);
            position += DeltaBinaryPacked.Decode(data[position..], suffix);
            output.ReserveBinary(count);
            var previousStart = 0;
            var previousLength = 0;
            for (var i = 0; i < count; i++)
            {
                if (prefix[i] < 0 || prefix[i] > previousLength || suffix[i] < 0 || suffix[i] > data.Length - position)
                {
                    throw new ParquetFormatException($"DELTA_BYTE_ARRAY value {i}: prefix {prefix[i]} / suffix {suffix[i]} do not fit (previous value {previousLength} bytes, {data.Length - position} bytes left)");
                }

                var length = (int)(prefix[i] + suffix[i]);
                var start = output.BinaryStore.Length;
                var target = output.AppendStore(length);
                output.StoreFrom(previousStart)[..(int)prefix[i]].CopyTo(target);
                data.Slice(position, (int)suffix[i]).CopyTo(target[(int)prefix[i]..]);
                position += (int)suffix[i];
                output.RegisterBinary(start, length);
                (previousStart, previousLength) = (start, length);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(prefixes);
            ArrayPool<long>.Shared.Return(suffixes);
        }
    }

    /// <summary>Fixed-width values in BYTE_STREAM_SPLIT: byte k of every value, then byte k+1, ...</summary>
    public static void ByteStreamSplit(ReadOnlySpan<byte> data, ParquetColumn column, int count, ColumnBuffer output)
    {
        var width = column.PhysicalType switch
        {
            PhysicalType.Int32 or PhysicalType.Float => 4,
            PhysicalType.Int64 or PhysicalType.Double => 8,
            PhysicalType.FixedLenByteArray => column.TypeLength,
            _ => throw new ParquetFormatException($"BYTE_STREAM_SPLIT cannot encode {column.PhysicalType}"),
        };
        if ((long)width * count > data.Length)
        {
            throw new ParquetFormatException($"{count} BYTE_STREAM_SPLIT values of {width} bytes do not fit in {data.Length} bytes");
        }

        var joined = ArrayPool<byte>.Shared.Rent(Math.Max(1, width * count));
        try
        {
            var bytes = joined.AsSpan(0, width * count);
            for (var k = 0; k < width; k++)
            {
                var stream = data.Slice(k * count, count);
                for (var i = 0; i < count; i++)
                {
                    bytes[(i * width) + k] = stream[i];
                }
            }

            switch (column.PhysicalType)
            {
                case PhysicalType.Int32:
                    MemoryMarshal.Cast<byte, int>(bytes).CopyTo(output.AppendValues<int>(count));
                    break;
                case PhysicalType.Float:
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(output.AppendValues<float>(count));
                    break;
                case PhysicalType.Int64:
                    MemoryMarshal.Cast<byte, long>(bytes).CopyTo(output.AppendValues<long>(count));
                    break;
                case PhysicalType.Double:
                    MemoryMarshal.Cast<byte, double>(bytes).CopyTo(output.AppendValues<double>(count));
                    break;
                default:
                    PlainDecoder.Decode(bytes, column, count, output);
                    break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }
}
