using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>How a <see cref="VideoShardWriter"/> cuts a dataset into Parquet shards.</summary>
public sealed record VideoShardWriterOptions
{
    /// <summary>Rows per row group (the unit a reader decodes at once).</summary>
    public int RowsPerRowGroup { get; init; } = 64;

    /// <summary>Target largest shard in bytes: a new shard starts before a row group that would pass it (a shard holds at least one row group).</summary>
    public long? MaxShardBytes { get; init; } = 256L << 20;

    /// <summary>Largest number of rows per shard (null: no limit).</summary>
    public long? MaxRowsPerShard { get; init; }

    /// <summary>Shard file names are <c>{Prefix}{index:D5}.parquet</c>.</summary>
    public string Prefix { get; init; } = "part-";

    /// <summary>Page compression and encoding options for every shard.</summary>
    public ParquetWriterOptions Parquet { get; init; } = new() { Compression = CompressionCodec.Zstd, ZstdLevel = 1 };

    internal void Validate()
    {
        if (RowsPerRowGroup < 1)
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(RowsPerRowGroup)}: {RowsPerRowGroup} must be at least 1", nameof(RowsPerRowGroup));
        }

        if (MaxShardBytes is < 1)
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(MaxShardBytes)}: {MaxShardBytes} must be positive", nameof(MaxShardBytes));
        }

        if (MaxRowsPerShard is < 1)
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(MaxRowsPerShard)}: {MaxRowsPerShard} must be positive", nameof(MaxRowsPerShard));
        }

        if (string.IsNullOrEmpty(Prefix) || Prefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(Prefix)}: '{Prefix}' is not usable in a file name", nameof(Prefix));
        }
    }
}
