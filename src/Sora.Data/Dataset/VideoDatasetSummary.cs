using Parquet.Meta;
using Parquet.Schema;
using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>
/// A look at a dataset directory (or one file) from the footers alone, plus — when the files are video dataset
/// shards — a histogram of clip shapes read from the shape columns only (payloads are never decoded).
/// </summary>
public sealed record VideoDatasetSummary(ParquetSchema Schema, IReadOnlyList<ShardSummary> Shards, IReadOnlyDictionary<VideoShape, long>? Shapes)
{
    public long Rows => Shards.Sum(s => s.Rows);

    public long Bytes => Shards.Sum(s => s.Bytes);

    /// <summary>Inspects <paramref name="path"/>: a shard file or a directory of <c>*.parquet</c> shards.</summary>
    public static VideoDatasetSummary Inspect(string path)
    {
        var files = VideoShardReader.FindShards(path);
        ParquetSchema? schema = null;
        var shards = new List<ShardSummary>(files.Count);
        var isDataset = true;
        foreach (var file in files)
        {
            using var reader = ParquetFile.Open(file);
            schema ??= reader.Schema;
            var groups = reader.Metadata.RowGroups;
            shards.Add(new ShardSummary(
                file,
                reader.NumRows,
                groups.Count,
                groups.Count > 0 ? groups.Min(g => g.NumRows) : 0,
                groups.Count > 0 ? groups.Max(g => g.NumRows) : 0,
                new FileInfo(file).Length,
                groups.SelectMany(g => g.Columns.Select(c => c.MetaData?.Codec ?? CompressionCodec.UNCOMPRESSED)).Distinct().Order().Select(CodecName).ToArray(),
                reader.Metadata.CreatedBy));
            try
            {
                VideoDatasetSchema.Check(reader);
            }
            catch (ParquetFormatException)
            {
                isDataset = false;
            }
        }

        Dictionary<VideoShape, long>? shapes = null;
        if (isDataset)
        {
            shapes = [];
            foreach (var record in new VideoShardReader(path).ReadRecords(VideoColumns.Shape))
            {
                var shape = new VideoShape(record.Frames, record.Height, record.Width);
                shapes[shape] = shapes.GetValueOrDefault(shape) + 1;
            }
        }

        return new VideoDatasetSummary(schema!, shards, shapes);
    }

    private static string CodecName(CompressionCodec codec) => codec == CompressionCodec.UNCOMPRESSED ? "none" : codec.ToString().ToLowerInvariant();
}
