using Sora.Data.Synthetic;

namespace Sora.Data.Dataset;

/// <summary>Writes the synthetic moving-shapes dataset (uint8 pixels) as Parquet shards.</summary>
public static class MovingShapesShards
{
    /// <summary>
    /// Generates samples 0..<paramref name="samples"/>-1 of <paramref name="options"/> with <paramref name="seed"/> into
    /// shards under <paramref name="directory"/>; reports the number of samples written so far.
    /// </summary>
    public static IReadOnlyList<VideoShard> Write(string directory, long samples, ulong seed, MovingShapesOptions options, VideoShardWriterOptions shardOptions, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(shardOptions);
        return Write(new DirectoryShardSink(directory, shardOptions.Prefix), samples, seed, options, shardOptions, progress);
    }

    /// <summary>The same samples written into <paramref name="sink"/> (a directory or a blob container).</summary>
    public static IReadOnlyList<VideoShard> Write(IShardSink sink, long samples, ulong seed, MovingShapesOptions options, VideoShardWriterOptions shardOptions, IProgress<long>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        var generator = new MovingShapesGenerator(options, seed);
        using var writer = new VideoShardWriter(sink, shardOptions);
        for (long i = 0; i < samples; i++)
        {
            writer.Write(VideoSampleRecord.FromMovingShapes(generator.Generate(i), seed));
            if ((i + 1) % 16 == 0 || i + 1 == samples)
            {
                progress?.Report(i + 1);
            }
        }

        return writer.Complete();
    }
}
