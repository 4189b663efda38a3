using Sora.Data.Parquet;
using Sora.Data.Storage;

namespace Sora.Data.Dataset;

/// <summary>
/// Reads video dataset shards (one file, or every <c>*.parquet</c> of a directory in name order) back as
/// <see cref="VideoSampleRecord"/>s, streaming one row group at a time and decoding only the columns asked for.
/// Problems with a shard throw <see cref="ParquetFormatException"/> naming the file, row group and column.
/// </summary>
public sealed class VideoShardReader
{
    /// <summary>Finds the shards under <paramref name="path"/> (a shard file or a directory of them).</summary>
    public VideoShardReader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Files = FindShards(path);
    }

    public IReadOnlyList<string> Files { get; }

    /// <summary>The shard files: <paramref name="path"/> itself, or the directory's <c>*.parquet</c> files sorted by name.</summary>
    public static IReadOnlyList<string> FindShards(string path) => new DirectoryShardSource(path).Files();

    /// <summary>Every record of every shard, in order, with only <paramref name="columns"/> filled in.</summary>
    public IEnumerable<VideoSampleRecord> ReadRecords(VideoColumns columns = VideoColumns.All)
    {
        foreach (var file in Files)
        {
            foreach (var record in ReadShard(file, columns))
            {
                yield return record;
            }
        }
    }

    /// <summary>The records of one shard file, one row group decoded at a time.</summary>
    public static IEnumerable<VideoSampleRecord> ReadShard(string file, VideoColumns columns = VideoColumns.All)
    {
        using var parquet = ParquetFile.Open(file);
        foreach (var record in ReadShard(parquet, columns))
        {
            yield return record;
        }
    }

    /// <summary>The records of one open shard (a file or a blob), one row group decoded at a time.</summary>
    public static IEnumerable<VideoSampleRecord> ReadShard(ParquetFile parquet, VideoColumns columns = VideoColumns.All)
    {
        ArgumentNullException.ThrowIfNull(parquet);
        VideoDatasetSchema.Check(parquet);
        for (var group = 0; group < parquet.RowGroupCount; group++)
        {
            var rows = ReadRowGroup(parquet, group, columns);
            for (var r = 0; r < rows.Count; r++)
            {
                yield return rows.Record(r, columns);
            }
        }
    }

    /// <summary>Decodes the requested columns of one row group (the file's schema was checked when it was opened).</summary>
    internal static VideoRowGroup ReadRowGroup(ParquetFile parquet, int group, VideoColumns columns)
    {
        var rows = new VideoRowGroup(parquet.Name, group, checked((int)parquet.RowGroupRows[group]));
        foreach (var name in Requested(columns))
        {
            rows.Add(parquet.ReadColumn(group, parquet.FindField(name)!));
        }

        return rows;
    }

    internal static IEnumerable<string> Requested(VideoColumns columns)
    {
        if (columns.HasFlag(VideoColumns.Id))
        {
            yield return VideoDatasetSchema.Id;
        }

        if (columns.HasFlag(VideoColumns.Caption))
        {
            yield return VideoDatasetSchema.Caption;
        }

        if (columns.HasFlag(VideoColumns.TextEmbedding))
        {
            yield return VideoDatasetSchema.TextEmbedding;
        }

        if (columns.HasFlag(VideoColumns.Kind))
        {
            yield return VideoDatasetSchema.Kind;
        }

        if (columns.HasFlag(VideoColumns.Shape))
        {
            yield return VideoDatasetSchema.Channels;
            yield return VideoDatasetSchema.Frames;
            yield return VideoDatasetSchema.Height;
            yield return VideoDatasetSchema.Width;
        }

        if (columns.HasFlag(VideoColumns.Fps))
        {
            yield return VideoDatasetSchema.Fps;
        }

        if (columns.HasFlag(VideoColumns.DType))
        {
            yield return VideoDatasetSchema.DType;
        }

        if (columns.HasFlag(VideoColumns.Payload))
        {
            yield return VideoDatasetSchema.Payload;
        }

        if (columns.HasFlag(VideoColumns.Source))
        {
            yield return VideoDatasetSchema.Source;
        }
    }
}
