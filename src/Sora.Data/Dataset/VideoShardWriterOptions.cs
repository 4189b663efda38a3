using System.IO.Compression;
using Parquet;

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

    /// <summary>Page compression of every shard (Parquet.Net writes snappy, gzip, zstd or none).</summary>
    public CompressionMethod Compression { get; init; } = CompressionMethod.Zstd;

    /// <summary>How hard the codec works: the fastest level keeps writing cheap (zstd's level 1).</summary>
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Fastest;

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

        if (Compression is not (CompressionMethod.None or CompressionMethod.Snappy or CompressionMethod.Gzip or CompressionMethod.Zstd))
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(Compression)}: {Compression} is not one of none, snappy, gzip, zstd", nameof(Compression));
        }

        if (string.IsNullOrEmpty(Prefix) || Prefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"{nameof(VideoShardWriterOptions)}.{nameof(Prefix)}: '{Prefix}' is not usable in a file name", nameof(Prefix));
        }
    }
}
