namespace Sora.Data.Parquet;

/// <summary>How a <see cref="ParquetWriter"/> encodes: compression, page size, dictionaries, statistics, file metadata.</summary>
public sealed record ParquetWriterOptions
{
    public CompressionCodec Compression { get; init; } = CompressionCodec.Snappy;

    /// <summary>Target uncompressed bytes per data page; pages end on row boundaries, so one large value makes a larger page.</summary>
    public int PageSize { get; init; } = 1 << 20;

    /// <summary>Dictionary-encode a column chunk when that helps (few distinct, short values); otherwise PLAIN.</summary>
    public bool UseDictionary { get; init; } = true;

    /// <summary>Write min/max/null_count statistics per column chunk (min/max only for values up to <see cref="MaxStatisticsValueBytes"/>).</summary>
    public bool WriteStatistics { get; init; } = true;

    /// <summary>Longest binary value kept as a min/max statistic; longer ones leave min/max out.</summary>
    public int MaxStatisticsValueBytes { get; init; } = 64;

    /// <summary>ZSTD compression level (1 fastest ... 19 smallest).</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>Key/value pairs stored in the footer.</summary>
    public IReadOnlyDictionary<string, string> KeyValues { get; init; } = new Dictionary<string, string>();

    public string CreatedBy { get; init; } = "Sora.Data.Parquet";

    internal void Validate()
    {
        if (Compression is not (CompressionCodec.None or CompressionCodec.Snappy or CompressionCodec.Gzip or CompressionCodec.Zstd))
        {
            throw new ArgumentException($"{nameof(ParquetWriterOptions)}.{nameof(Compression)}: {Compression} is not supported; use None, Snappy, Gzip or Zstd", nameof(Compression));
        }

        if (PageSize < 1024)
        {
            throw new ArgumentException($"{nameof(ParquetWriterOptions)}.{nameof(PageSize)}: {PageSize} is below 1024 bytes", nameof(PageSize));
        }

        if (ZstdLevel is < 1 or > 22)
        {
            throw new ArgumentException($"{nameof(ParquetWriterOptions)}.{nameof(ZstdLevel)}: {ZstdLevel} is outside 1..22", nameof(ZstdLevel));
        }
    }
}
