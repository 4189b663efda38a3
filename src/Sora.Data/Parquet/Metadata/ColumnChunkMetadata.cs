namespace Sora.Data.Parquet.Metadata;

/// <summary>Where one column's chunk of one row group lies in the file, how it is encoded and compressed, and its statistics.</summary>
public sealed class ColumnChunkMetadata
{
    public required IReadOnlyList<string> PathInSchema { get; init; }

    public string DottedPath => string.Join('.', PathInSchema);

    public required PhysicalType PhysicalType { get; init; }

    public required IReadOnlyList<ParquetEncoding> Encodings { get; init; }

    public required CompressionCodec Codec { get; init; }

    /// <summary>Level entries in the chunk (rows for a flat column; elements plus empty and null lists for a list).</summary>
    public required long NumValues { get; init; }

    public required long TotalUncompressedSize { get; init; }

    public required long TotalCompressedSize { get; init; }

    public required long DataPageOffset { get; init; }

    public long? DictionaryPageOffset { get; init; }

    public ColumnStatistics? Statistics { get; init; }

    /// <summary>The file offset of the chunk's first page (the dictionary page when there is one).</summary>
    public long StartOffset => DictionaryPageOffset is { } dictionary && dictionary > 0 && dictionary < DataPageOffset ? dictionary : DataPageOffset;
}
