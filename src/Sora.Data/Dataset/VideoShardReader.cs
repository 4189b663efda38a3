using Sora.Data.Parquet;

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
    public static IReadOnlyList<string> FindShards(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"no Parquet shard or directory at '{path}'", path);
        }

        var files = Directory.EnumerateFiles(path, "*.parquet").Order(StringComparer.Ordinal).ToArray();
        return files.Length > 0 ? files : throw new FileNotFoundException($"'{path}' holds no *.parquet shards", path);
    }

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
        using var reader = ParquetReader.Open(file);
        VideoDatasetSchema.Check(reader.Schema, file);
        var wanted = Requested(columns).Select(name => reader.Schema.Column(name)).ToArray();
        var buffers = wanted.Select(_ => new ColumnBuffer()).ToArray();
        try
        {
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                var rows = new VideoRowGroup(reader.Name, group, (int)reader.RowGroup(group).NumRows);
                for (var c = 0; c < wanted.Length; c++)
                {
                    reader.ReadColumn(group, wanted[c], buffers[c]);
                    rows.Add(wanted[c], buffers[c]);
                }

                for (var r = 0; r < rows.Count; r++)
                {
                    yield return rows.Record(r, columns);
                }
            }
        }
        finally
        {
            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
        }
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
