using System.Buffers;
using System.Buffers.Binary;
using Sora.Data.Parquet.Compression;
using Sora.Data.Parquet.Encodings;
using Sora.Data.Parquet.Metadata;

namespace Sora.Data.Parquet;

/// <summary>
/// Turns the bytes of one column chunk (its pages) into a <see cref="ColumnBuffer"/>: page headers, decompression,
/// levels, PLAIN and dictionary values. Keeps its scratch buffers between chunks. Not thread-safe.
/// </summary>
internal sealed class ColumnChunkDecoder : IDisposable
{
    /// <summary>Largest page accepted, compressed or not.</summary>
    public const int MaxPageBytes = 1 << 30;

    private readonly ByteBuffer page = new(1 << 16);
    private readonly ColumnBuffer dictionary = new();
    private int[] indices = [];

    /// <summary>
    /// Decodes a chunk into <paramref name="output"/> (already reset for the column). When <paramref name="chunkInStore"/>
    /// is set, <paramref name="chunk"/> is the start of <paramref name="output"/>'s binary store, so PLAIN values are used
    /// where they lie; then a dictionary page cannot be handled (its values would grow the store under the chunk) and the
    /// method returns false, for the caller to reset the output and retry with the chunk elsewhere (so does a page in an
    /// encoding that rebuilds values, such as DELTA_BYTE_ARRAY).
    /// </summary>
    public bool Decode(ReadOnlySpan<byte> chunk, ColumnChunkMetadata metadata, ParquetColumn column, ColumnBuffer output, bool chunkInStore = false)
    {
        dictionary.Reset(column);
        var hasDictionary = false;
        var dataPages = 0;
        var remaining = metadata.NumValues;
        var position = 0;
        if (!PageCompression.IsSupported(metadata.Codec))
        {
            throw new ParquetFormatException($"compression codec {metadata.Codec} is not supported (only None, Snappy, Gzip, Zstd)");
        }

        while (remaining > 0)
        {
            if (position >= chunk.Length)
            {
                throw new ParquetFormatException($"the chunk's pages end after {metadata.NumValues - remaining} of its {metadata.NumValues} values");
            }

            var header = PageHeader.Read(chunk[position..], out var headerLength);
            position += headerLength;
            if (header.CompressedSize > chunk.Length - position || header.UncompressedSize > MaxPageBytes)
            {
                throw new ParquetFormatException($"page at chunk byte {position} claims {header.CompressedSize} compressed / {header.UncompressedSize} uncompressed bytes; {chunk.Length - position} remain in the chunk");
            }

            var bodyOffset = position;
            var body = chunk.Slice(position, header.CompressedSize);
            position += header.CompressedSize;
            switch (header.Type)
            {
                case PageType.DictionaryPage:
                    if (hasDictionary || dataPages > 0)
                    {
                        throw new ParquetFormatException("a dictionary page that is not the chunk's first page");
                    }

                    if (chunkInStore)
                    {
                        return false;
                    }

                    if (header.Encoding is not (ParquetEncoding.Plain or ParquetEncoding.PlainDictionary))
                    {
                        throw new ParquetFormatException($"dictionary page encoding {header.Encoding} is not supported");
                    }

                    var values = Decompress(metadata.Codec, body, header.UncompressedSize);
                    PlainDecoder.Decode(values, column, header.NumValues, dictionary);
                    hasDictionary = true;
                    break;
                case PageType.DataPage:
                case PageType.DataPageV2:
                    if (header.NumValues > remaining || header.NumValues == 0)
                    {
                        throw new ParquetFormatException($"a data page holds {header.NumValues} values where {remaining} remain in the chunk");
                    }

                    if (!DecodeDataPage(header, body, chunkInStore ? bodyOffset : -1, metadata.Codec, column, output, hasDictionary))
                    {
                        return false;
                    }

                    remaining -= header.NumValues;
                    dataPages++;
                    break;
                default:
                    break;
            }
        }

        output.CountRows(0);
        return true;
    }

    public void Dispose()
    {
        page.Dispose();
        dictionary.Dispose();
        if (indices.Length > 0)
        {
            ArrayPool<int>.Shared.Return(indices);
            indices = [];
        }
    }

    private ReadOnlySpan<byte> Decompress(CompressionCodec codec, ReadOnlySpan<byte> body, int uncompressedSize)
    {
        if (codec == CompressionCodec.None)
        {
            PageCompression.CheckDeclaredSize(codec, body, uncompressedSize);
            return body;
        }

        PageCompression.CheckDeclaredSize(codec, body, uncompressedSize);
        var target = page.Reset(uncompressedSize);
        PageCompression.Decompress(codec, body, target);
        return target;
    }

    // bodyStore: where body lies in the output's binary store, or -1.
    private bool DecodeDataPage(PageHeader header, ReadOnlySpan<byte> body, int bodyStore, CompressionCodec codec, ParquetColumn column, ColumnBuffer output, bool hasDictionary)
    {
        if (bodyStore >= 0 && header.Encoding is not (ParquetEncoding.Plain or ParquetEncoding.DeltaLengthByteArray))
        {
            // Only these use values where they lie; any other would grow the store the chunk lies in.
            return false;
        }

        var count = header.NumValues;
        var levelStart = output.LevelCount;
        var definitions = output.AppendLevels(count, out var repetitions);

        // PLAIN binary values are decompressed straight into the output's store and used there.
        var inPlace = header.Encoding == ParquetEncoding.Plain && column.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray;
        ReadOnlySpan<byte> values;
        int valuesStore;
        if (header.Type == PageType.DataPage)
        {
            ReadOnlySpan<byte> data;
            int dataStore;
            if (codec == CompressionCodec.None)
            {
                PageCompression.CheckDeclaredSize(codec, body, header.UncompressedSize);
                data = body;
                dataStore = bodyStore;
            }
            else if (inPlace)
            {
                data = DecompressIntoStore(codec, body, header.UncompressedSize, output, out dataStore);
            }
            else
            {
                data = Decompress(codec, body, header.UncompressedSize);
                dataStore = -1;
            }

            var offset = 0;
            if (column.MaxRepetitionLevel > 0)
            {
                offset += ReadV1Levels(data[offset..], header.RepetitionLevelEncoding, column.MaxRepetitionLevel, repetitions, "repetition");
            }

            if (column.MaxDefinitionLevel > 0)
            {
                offset += ReadV1Levels(data[offset..], header.DefinitionLevelEncoding, column.MaxDefinitionLevel, definitions, "definition");
            }

            values = data[offset..];
            valuesStore = dataStore >= 0 ? dataStore + offset : -1;
        }
        else
        {
            var levelBytes = (long)header.RepetitionLevelsLength + header.DefinitionLevelsLength;
            if (levelBytes > body.Length || levelBytes > header.UncompressedSize)
            {
                throw new ParquetFormatException($"a v2 data page's levels ({levelBytes} bytes) exceed the page ({body.Length} bytes)");
            }

            var repetitionBytes = body[..header.RepetitionLevelsLength];
            var definitionBytes = body.Slice(header.RepetitionLevelsLength, header.DefinitionLevelsLength);
            if (column.MaxRepetitionLevel > 0)
            {
                DecodeLevels(repetitionBytes, column.MaxRepetitionLevel, repetitions, "repetition");
            }

            if (column.MaxDefinitionLevel > 0)
            {
                DecodeLevels(definitionBytes, column.MaxDefinitionLevel, definitions, "definition");
            }

            var compressedValues = body[(int)levelBytes..];
            var valuesSize = header.UncompressedSize - (int)levelBytes;
            if (!header.IsCompressed || codec == CompressionCodec.None)
            {
                PageCompression.CheckDeclaredSize(CompressionCodec.None, compressedValues, valuesSize);
                values = compressedValues;
                valuesStore = bodyStore >= 0 ? bodyStore + (int)levelBytes : -1;
            }
            else if (inPlace)
            {
                values = DecompressIntoStore(codec, compressedValues, valuesSize, output, out valuesStore);
            }
            else
            {
                values = Decompress(codec, compressedValues, valuesSize);
                valuesStore = -1;
            }
        }

        if (column.MaxRepetitionLevel > 0 && repetitions[0] != 0 && levelStart == 0)
        {
            throw new ParquetFormatException("the chunk's first value does not start a row (repetition level is not 0)");
        }

        var present = column.MaxDefinitionLevel == 0 ? count : definitions.Count(column.MaxDefinitionLevel);
        DecodeValues(header.Encoding, values, valuesStore, column, present, output, hasDictionary);
        return true;
    }

    private static ReadOnlySpan<byte> DecompressIntoStore(CompressionCodec codec, ReadOnlySpan<byte> body, int size, ColumnBuffer output, out int start)
    {
        PageCompression.CheckDeclaredSize(codec, body, size);
        start = output.BinaryStore.Length;
        var target = output.AppendStore(size);
        PageCompression.Decompress(codec, body, target);
        return target;
    }

    private static int ReadV1Levels(ReadOnlySpan<byte> data, ParquetEncoding encoding, int maxLevel, Span<int> levels, string kind)
    {
        if (encoding != ParquetEncoding.Rle)
        {
            throw new ParquetFormatException($"{kind} levels in encoding {encoding} are not supported (only RLE)");
        }

        if (data.Length < 4)
        {
            throw new ParquetFormatException($"the page ends before its {kind} levels");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (length < 0 || length > data.Length - 4)
        {
            throw new ParquetFormatException($"{kind} levels claim {length} bytes but {data.Length - 4} remain in the page");
        }

        DecodeLevels(data.Slice(4, length), maxLevel, levels, kind);
        return 4 + length;
    }

    private static void DecodeLevels(ReadOnlySpan<byte> data, int maxLevel, Span<int> levels, string kind)
    {
        RleBitPackedHybrid.Decode(data, RleBitPackedHybrid.BitWidth(maxLevel), levels);
        foreach (var level in levels)
        {
            if ((uint)level > (uint)maxLevel)
            {
                throw new ParquetFormatException($"{kind} level {level} exceeds the column's maximum {maxLevel}");
            }
        }
    }

    private void DecodeValues(ParquetEncoding encoding, ReadOnlySpan<byte> data, int dataStore, ParquetColumn column, int count, ColumnBuffer output, bool hasDictionary)
    {
        switch (encoding)
        {
            case ParquetEncoding.Plain:
                PlainDecoder.Decode(data, column, count, output, dataStore);
                break;
            case ParquetEncoding.PlainDictionary:
            case ParquetEncoding.RleDictionary:
                if (!hasDictionary)
                {
                    throw new ParquetFormatException("a dictionary-encoded page without a dictionary page");
                }

                DecodeDictionaryIndices(data, count);
                Gather(column, indices.AsSpan(0, count), output);
                break;
            case ParquetEncoding.Rle when column.PhysicalType == PhysicalType.Boolean:
                if (data.Length < 4)
                {
                    throw new ParquetFormatException("RLE booleans lack their length prefix");
                }

                var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                if (length < 0 || length > data.Length - 4)
                {
                    throw new ParquetFormatException($"RLE booleans claim {length} bytes but {data.Length - 4} remain");
                }

                EnsureIndices(count);
                RleBitPackedHybrid.Decode(data.Slice(4, length), 1, indices.AsSpan(0, count));
                var bools = output.AppendValues<bool>(count);
                for (var i = 0; i < count; i++)
                {
                    bools[i] = indices[i] != 0;
                }

                break;
            case ParquetEncoding.DeltaBinaryPacked when column.PhysicalType is PhysicalType.Int32 or PhysicalType.Int64:
                ValueDecoders.DeltaIntegers(data, column, count, output);
                break;
            case ParquetEncoding.DeltaLengthByteArray when column.PhysicalType == PhysicalType.ByteArray:
                ValueDecoders.DeltaLengthByteArrays(data, count, output, dataStore);
                break;
            case ParquetEncoding.DeltaByteArray when column.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray:
                ValueDecoders.DeltaByteArrays(data, count, output);
                break;
            case ParquetEncoding.ByteStreamSplit when column.PhysicalType is not (PhysicalType.Boolean or PhysicalType.ByteArray):
                ValueDecoders.ByteStreamSplit(data, column, count, output);
                break;
            default:
                throw new ParquetFormatException($"value encoding {encoding} is not supported for {column.PhysicalType} (supported: PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE for booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT)");
        }
    }

    private void DecodeDictionaryIndices(ReadOnlySpan<byte> data, int count)
    {
        EnsureIndices(count);
        if (count == 0)
        {
            return;
        }

        if (data.IsEmpty)
        {
            throw new ParquetFormatException("a dictionary-encoded page has no bit width");
        }

        var bitWidth = data[0];
        if (bitWidth > 32)
        {
            throw new ParquetFormatException($"dictionary index bit width {bitWidth} exceeds 32");
        }

        var span = indices.AsSpan(0, count);
        RleBitPackedHybrid.Decode(data[1..], bitWidth, span);
        var size = (uint)dictionary.ValueCount;
        foreach (var index in span)
        {
            if ((uint)index >= size)
            {
                throw new ParquetFormatException($"dictionary index {index} is outside the dictionary's {size} values");
            }
        }
    }

    private void Gather(ParquetColumn column, ReadOnlySpan<int> positions, ColumnBuffer output)
    {
        switch (column.PhysicalType)
        {
            case PhysicalType.Int32:
                GatherFixed(dictionary.Int32Values, positions, output.AppendValues<int>(positions.Length));
                break;
            case PhysicalType.Int64:
                GatherFixed(dictionary.Int64Values, positions, output.AppendValues<long>(positions.Length));
                break;
            case PhysicalType.Float:
                GatherFixed(dictionary.FloatValues, positions, output.AppendValues<float>(positions.Length));
                break;
            case PhysicalType.Double:
                GatherFixed(dictionary.DoubleValues, positions, output.AppendValues<double>(positions.Length));
                break;
            case PhysicalType.Boolean:
                GatherFixed(dictionary.BooleanValues, positions, output.AppendValues<bool>(positions.Length));
                break;
            default:
                output.ReserveBinary(positions.Length);
                foreach (var p in positions)
                {
                    output.AppendBinaryValue(dictionary.GetBytes(p));
                }

                break;
        }
    }

    private static void GatherFixed<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> positions, Span<T> destination)
    {
        for (var i = 0; i < positions.Length; i++)
        {
            destination[i] = source[positions[i]];
        }
    }

    private void EnsureIndices(int count)
    {
        if (indices.Length < count)
        {
            if (indices.Length > 0)
            {
                ArrayPool<int>.Shared.Return(indices);
            }

            indices = ArrayPool<int>.Shared.Rent(count);
        }
    }
}
