using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Sora.Data.Parquet.Compression;
using Sora.Data.Parquet.Encodings;
using Sora.Data.Parquet.Metadata;
using Sora.Data.Parquet.Thrift;

namespace Sora.Data.Parquet;

/// <summary>
/// Encodes one <see cref="ColumnBuffer"/> as a column chunk: an optional dictionary page, then v1 data pages cut on row
/// boundaries (RLE levels; PLAIN or RLE_DICTIONARY values), compressed, and the chunk's statistics.
/// </summary>
internal sealed class ColumnChunkWriter : IDisposable
{
    /// <summary>Dictionaries larger than this (encoded) fall back to PLAIN.</summary>
    private const int MaxDictionaryBytes = 1 << 20;

    /// <summary>Binary values longer than this on average are never dictionary-encoded.</summary>
    private const int MaxDictionaryValueBytes = 256;

    private readonly ParquetWriterOptions options;
    private readonly ByteBuffer body = new(1 << 16);
    private readonly ByteBuffer compressed = new(1 << 16);
    private readonly ThriftCompactWriter thrift = new();
    private int[] dictionaryIndices = [];

    public ColumnChunkWriter(ParquetWriterOptions options)
    {
        this.options = options;
    }

    /// <summary>Writes the chunk at the stream's current end (<paramref name="offset"/>) and describes it.</summary>
    public ColumnChunkMetadata Write(Stream output, long offset, ColumnBuffer column)
    {
        var descriptor = column.Column!;
        var start = offset;
        long uncompressedTotal = 0;
        long? dictionaryOffset = null;
        var encodings = new List<ParquetEncoding> { ParquetEncoding.Rle };

        var dictionary = options.UseDictionary ? BuildDictionary(column) : null;
        if (dictionary is { } entries)
        {
            dictionaryOffset = offset;
            body.Clear();
            EncodePlain(column, entries.Sources, body);
            var written = WritePage(output, PageType.DictionaryPage, entries.Sources.Length, ParquetEncoding.Plain, body.Written);
            uncompressedTotal += written.Uncompressed;
            offset += written.Total;
            encodings.Add(ParquetEncoding.Plain);
            encodings.Add(ParquetEncoding.RleDictionary);
        }
        else
        {
            encodings.Add(ParquetEncoding.Plain);
        }

        var dataOffset = offset;
        var definitions = column.DefinitionLevels;
        var repetitions = column.RepetitionLevels;
        var maxDefinition = descriptor.MaxDefinitionLevel;
        var bitWidth = dictionary is { } d ? RleBitPackedHybrid.BitWidth(d.Sources.Length - 1) : 0;
        var fixedWidth = FixedWidth(descriptor);
        var lengths = column.BinaryLengths;
        var levelStart = 0;
        var valueStart = 0;
        while (levelStart < column.LevelCount)
        {
            // Take level entries until the page is full, ending on a row boundary.
            var levelEnd = levelStart;
            var valueEnd = valueStart;
            long estimate = 0;
            while (levelEnd < column.LevelCount)
            {
                if (levelEnd > levelStart && estimate >= options.PageSize && (repetitions.IsEmpty || repetitions[levelEnd] == 0))
                {
                    break;
                }

                if (definitions.IsEmpty || definitions[levelEnd] == maxDefinition)
                {
                    estimate += dictionary is not null ? 1 : fixedWidth > 0 ? fixedWidth : 4 + lengths[valueEnd];
                    valueEnd++;
                }

                levelEnd++;
            }

            if (levelEnd == levelStart)
            {
                break;
            }

            body.Clear();
            if (descriptor.MaxRepetitionLevel > 0)
            {
                AppendLevels(repetitions[levelStart..levelEnd], descriptor.MaxRepetitionLevel);
            }

            if (maxDefinition > 0)
            {
                AppendLevels(definitions[levelStart..levelEnd], maxDefinition);
            }

            ParquetEncoding encoding;
            if (dictionary is not null)
            {
                body.AppendByte((byte)bitWidth);
                RleBitPackedHybrid.Encode(dictionaryIndices.AsSpan(valueStart, valueEnd - valueStart), bitWidth, body);
                encoding = ParquetEncoding.RleDictionary;
            }
            else
            {
                EncodePlainRange(column, valueStart, valueEnd, body);
                encoding = ParquetEncoding.Plain;
            }

            var page = WritePage(output, PageType.DataPage, levelEnd - levelStart, encoding, body.Written);
            uncompressedTotal += page.Uncompressed;
            offset += page.Total;
            levelStart = levelEnd;
            valueStart = valueEnd;
        }

        return new ColumnChunkMetadata
        {
            PathInSchema = descriptor.Path,
            PhysicalType = descriptor.PhysicalType,
            Encodings = encodings,
            Codec = options.Compression,
            NumValues = column.LevelCount,
            TotalUncompressedSize = uncompressedTotal,
            TotalCompressedSize = offset - start,
            DataPageOffset = dataOffset,
            DictionaryPageOffset = dictionaryOffset,
            Statistics = options.WriteStatistics ? ColumnStatisticsBuilder.Build(column, options.MaxStatisticsValueBytes) : null,
        };
    }

    public void Dispose()
    {
        body.Dispose();
        compressed.Dispose();
    }

    private static int FixedWidth(ParquetColumn column) => column.PhysicalType switch
    {
        PhysicalType.Int32 or PhysicalType.Float => 4,
        PhysicalType.Int64 or PhysicalType.Double => 8,
        PhysicalType.Boolean => 1,
        PhysicalType.FixedLenByteArray => column.TypeLength,
        _ => 0,
    };

    private void AppendLevels(ReadOnlySpan<int> levels, int maxLevel)
    {
        var lengthAt = body.Length;
        body.AppendInt32(0);
        RleBitPackedHybrid.Encode(levels, RleBitPackedHybrid.BitWidth(maxLevel), body);
        BinaryPrimitives.WriteInt32LittleEndian(body.Array.AsSpan(lengthAt), body.Length - lengthAt - 4);
    }

    private (int Uncompressed, int Total) WritePage(Stream output, PageType type, int count, ParquetEncoding encoding, ReadOnlySpan<byte> content)
    {
        compressed.Clear();
        PageCompression.Compress(options.Compression, content, compressed, options.ZstdLevel);
        var header = new PageHeader
        {
            Type = type,
            UncompressedSize = content.Length,
            CompressedSize = compressed.Length,
            NumValues = count,
            Encoding = encoding,
        };
        header.Write(thrift);
        output.Write(thrift.Written);
        output.Write(compressed.Written);
        return (content.Length + thrift.Written.Length, thrift.Written.Length + compressed.Length);
    }

    /// <summary>A dictionary when it pays: every value's dictionary index (in <see cref="dictionaryIndices"/>) and each entry's first value.</summary>
    private (int[] Sources, int Count)? BuildDictionary(ColumnBuffer column)
    {
        var descriptor = column.Column!;
        var count = column.ValueCount;
        if (count < 2 || descriptor.PhysicalType == PhysicalType.Boolean)
        {
            return null;
        }

        if (descriptor.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray && column.TotalBinaryBytes / count > MaxDictionaryValueBytes)
        {
            return null;
        }

        if (dictionaryIndices.Length < count)
        {
            dictionaryIndices = new int[Math.Max(count, dictionaryIndices.Length * 2)];
        }

        var sources = new List<int>();
        long dictionaryBytes = 0;
        var limit = Math.Max(1, count / 2);
        var binary = descriptor.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray;
        var byBytes = binary ? new Dictionary<int, int>(new BinaryValueComparer(column)) : null;
        var byBits = binary ? null : new Dictionary<long, int>();
        for (var i = 0; i < count; i++)
        {
            int index;
            bool found;
            if (binary)
            {
                found = byBytes!.TryGetValue(i, out index);
                if (!found)
                {
                    index = sources.Count;
                    byBytes.Add(i, index);
                    dictionaryBytes += 4 + column.GetBytes(i).Length;
                }
            }
            else
            {
                var bits = Bits(column, i);
                found = byBits!.TryGetValue(bits, out index);
                if (!found)
                {
                    index = sources.Count;
                    byBits.Add(bits, index);
                    dictionaryBytes += FixedWidth(descriptor);
                }
            }

            if (!found)
            {
                sources.Add(i);
                if (sources.Count > limit || dictionaryBytes > MaxDictionaryBytes)
                {
                    return null;
                }
            }

            dictionaryIndices[i] = index;
        }

        return (sources.ToArray(), sources.Count);
    }

    private static long Bits(ColumnBuffer column, int i) => column.Column!.PhysicalType switch
    {
        PhysicalType.Int32 => column.Int32Values[i],
        PhysicalType.Int64 => column.Int64Values[i],
        PhysicalType.Float => BitConverter.SingleToInt32Bits(column.FloatValues[i]),
        PhysicalType.Double => BitConverter.DoubleToInt64Bits(column.DoubleValues[i]),
        _ => throw new NotSupportedException(),
    };

    private static void EncodePlain(ColumnBuffer column, ReadOnlySpan<int> positions, ByteBuffer output)
    {
        foreach (var i in positions)
        {
            EncodePlainRange(column, i, i + 1, output);
        }
    }

    private static void EncodePlainRange(ColumnBuffer column, int start, int end, ByteBuffer output)
    {
        var count = end - start;
        switch (column.Column!.PhysicalType)
        {
            case PhysicalType.Int32:
                output.Append(MemoryMarshal.AsBytes(column.Int32Values.Slice(start, count)));
                break;
            case PhysicalType.Int64:
                output.Append(MemoryMarshal.AsBytes(column.Int64Values.Slice(start, count)));
                break;
            case PhysicalType.Float:
                output.Append(MemoryMarshal.AsBytes(column.FloatValues.Slice(start, count)));
                break;
            case PhysicalType.Double:
                output.Append(MemoryMarshal.AsBytes(column.DoubleValues.Slice(start, count)));
                break;
            case PhysicalType.Boolean:
                var bits = output.Append((count + 7) / 8);
                bits.Clear();
                var values = column.BooleanValues.Slice(start, count);
                for (var i = 0; i < count; i++)
                {
                    if (values[i])
                    {
                        bits[i >> 3] |= (byte)(1 << (i & 7));
                    }
                }

                break;
            case PhysicalType.ByteArray:
                long total = count * 4L;
                foreach (var length in column.BinaryLengths[start..end])
                {
                    total += length;
                }

                output.Ensure(checked((int)total));
                for (var i = start; i < end; i++)
                {
                    var value = column.GetBytes(i);
                    output.AppendInt32(value.Length);
                    output.Append(value);
                }

                break;
            default:
                for (var i = start; i < end; i++)
                {
                    output.Append(column.GetBytes(i));
                }

                break;
        }
    }

    /// <summary>Compares binary values of one buffer by index, hashing their bytes.</summary>
    private sealed class BinaryValueComparer(ColumnBuffer column) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => column.GetBytes(x).SequenceEqual(column.GetBytes(y));

        public int GetHashCode(int obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(column.GetBytes(obj));
            return hash.ToHashCode();
        }
    }
}
