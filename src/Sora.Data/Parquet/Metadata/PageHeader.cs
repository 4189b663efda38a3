using Sora.Data.Parquet.Thrift;

namespace Sora.Data.Parquet.Metadata;

/// <summary>A page's header (data v1/v2 or dictionary); only the fields this library uses.</summary>
internal sealed class PageHeader
{
    public PageType Type { get; set; }

    public int UncompressedSize { get; set; }

    public int CompressedSize { get; set; }

    /// <summary>Level entries in a data page, or values in a dictionary page.</summary>
    public int NumValues { get; set; }

    public ParquetEncoding Encoding { get; set; }

    public ParquetEncoding DefinitionLevelEncoding { get; set; } = ParquetEncoding.Rle;

    public ParquetEncoding RepetitionLevelEncoding { get; set; } = ParquetEncoding.Rle;

    /// <summary>v2 only: rows in the page.</summary>
    public int NumRows { get; set; }

    /// <summary>v2 only: nulls in the page.</summary>
    public int NumNulls { get; set; }

    /// <summary>v2 only: bytes of (uncompressed) definition levels at the page's start.</summary>
    public int DefinitionLevelsLength { get; set; }

    /// <summary>v2 only: bytes of (uncompressed) repetition levels at the page's start.</summary>
    public int RepetitionLevelsLength { get; set; }

    /// <summary>v2 only: whether the values section is compressed.</summary>
    public bool IsCompressed { get; set; } = true;

    /// <summary>Reads a header from the front of <paramref name="data"/>; returns how many bytes it took.</summary>
    public static PageHeader Read(ReadOnlySpan<byte> data, out int headerLength)
    {
        var reader = new ThriftCompactReader(data, "page header");
        var header = new PageHeader();
        int? type = null, uncompressed = null, compressed = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var fieldType))
        {
            switch (id)
            {
                case 1:
                    type = reader.ReadI32(fieldType);
                    break;
                case 2:
                    uncompressed = reader.ReadI32(fieldType);
                    break;
                case 3:
                    compressed = reader.ReadI32(fieldType);
                    break;
                case 5:
                    ReadDataPageHeader(ref reader, fieldType, header);
                    break;
                case 7:
                    ReadDictionaryPageHeader(ref reader, fieldType, header);
                    break;
                case 8:
                    ReadDataPageHeaderV2(ref reader, fieldType, header);
                    break;
                default:
                    reader.Skip(fieldType);
                    break;
            }
        }

        reader.EndStruct(saved);
        if (type is not (>= 0 and <= 3) || uncompressed is not >= 0 || compressed is not >= 0)
        {
            throw reader.Fail($"type {type?.ToString() ?? "missing"}, uncompressed size {uncompressed?.ToString() ?? "missing"}, compressed size {compressed?.ToString() ?? "missing"} are not a valid page");
        }

        header.Type = (PageType)type.Value;
        header.UncompressedSize = uncompressed.Value;
        header.CompressedSize = compressed.Value;
        if (header.NumValues < 0 || header.NumNulls < 0 || header.NumRows < 0 || header.DefinitionLevelsLength < 0 || header.RepetitionLevelsLength < 0)
        {
            throw reader.Fail("negative count or length in the page header");
        }

        headerLength = reader.Position;
        return header;
    }

    /// <summary>Writes a data page v1 or dictionary page header.</summary>
    public void Write(ThriftCompactWriter writer)
    {
        writer.Clear();
        writer.BeginStruct();
        writer.I32Field(1, (int)Type);
        writer.I32Field(2, UncompressedSize);
        writer.I32Field(3, CompressedSize);
        if (Type == PageType.DataPage)
        {
            writer.StructField(5);
            writer.I32Field(1, NumValues);
            writer.I32Field(2, (int)Encoding);
            writer.I32Field(3, (int)DefinitionLevelEncoding);
            writer.I32Field(4, (int)RepetitionLevelEncoding);
            writer.EndStruct();
        }
        else if (Type == PageType.DictionaryPage)
        {
            writer.StructField(7);
            writer.I32Field(1, NumValues);
            writer.I32Field(2, (int)Encoding);
            writer.EndStruct();
        }
        else
        {
            throw new InvalidOperationException($"writing {Type} pages is not supported");
        }

        writer.EndStruct();
    }

    private static void ExpectStruct(ref ThriftCompactReader reader, ThriftType type, string name)
    {
        if (type != ThriftType.Struct)
        {
            throw reader.Fail($"{name} is a {type}, expected a struct");
        }
    }

    private static ParquetEncoding ReadEncoding(ref ThriftCompactReader reader, ThriftType type)
    {
        var value = reader.ReadI32(type);
        return value is >= 0 and <= (int)ParquetEncoding.ByteStreamSplit and not 1 ? (ParquetEncoding)value : throw reader.Fail($"unknown encoding {value}");
    }

    private static void ReadDataPageHeader(ref ThriftCompactReader reader, ThriftType type, PageHeader header)
    {
        ExpectStruct(ref reader, type, "data_page_header");
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var fieldType))
        {
            switch (id)
            {
                case 1:
                    header.NumValues = reader.ReadI32(fieldType);
                    break;
                case 2:
                    header.Encoding = ReadEncoding(ref reader, fieldType);
                    break;
                case 3:
                    header.DefinitionLevelEncoding = ReadEncoding(ref reader, fieldType);
                    break;
                case 4:
                    header.RepetitionLevelEncoding = ReadEncoding(ref reader, fieldType);
                    break;
                default:
                    reader.Skip(fieldType);
                    break;
            }
        }

        reader.EndStruct(saved);
    }

    private static void ReadDictionaryPageHeader(ref ThriftCompactReader reader, ThriftType type, PageHeader header)
    {
        ExpectStruct(ref reader, type, "dictionary_page_header");
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var fieldType))
        {
            switch (id)
            {
                case 1:
                    header.NumValues = reader.ReadI32(fieldType);
                    break;
                case 2:
                    header.Encoding = ReadEncoding(ref reader, fieldType);
                    break;
                default:
                    reader.Skip(fieldType);
                    break;
            }
        }

        reader.EndStruct(saved);
    }

    private static void ReadDataPageHeaderV2(ref ThriftCompactReader reader, ThriftType type, PageHeader header)
    {
        ExpectStruct(ref reader, type, "data_page_header_v2");
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var fieldType))
        {
            switch (id)
            {
                case 1:
                    header.NumValues = reader.ReadI32(fieldType);
                    break;
                case 2:
                    header.NumNulls = reader.ReadI32(fieldType);
                    break;
                case 3:
                    header.NumRows = reader.ReadI32(fieldType);
                    break;
                case 4:
                    header.Encoding = ReadEncoding(ref reader, fieldType);
                    break;
                case 5:
                    header.DefinitionLevelsLength = reader.ReadI32(fieldType);
                    break;
                case 6:
                    header.RepetitionLevelsLength = reader.ReadI32(fieldType);
                    break;
                case 7:
                    header.IsCompressed = reader.ReadBool(fieldType);
                    break;
                default:
                    reader.Skip(fieldType);
                    break;
            }
        }

        reader.EndStruct(saved);
    }
}
