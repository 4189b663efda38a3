namespace Sora.Data.Parquet;

/// <summary>Page compression codecs (the numbers are the format's; only None, Snappy, Gzip and Zstd are supported).</summary>
public enum CompressionCodec
{
    None = 0,
    Snappy = 1,
    Gzip = 2,
    Lzo = 3,
    Brotli = 4,
    Lz4 = 5,
    Zstd = 6,
    Lz4Raw = 7,
}
