using Sora.Data.Loading;
using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>
/// A directory of video dataset shards (Parquet) as the loaders see it: one shard per file, its row count from the
/// footer, and rows read by index range, one row group decoded at a time (the last one is kept, so the mostly
/// sequential reads of a shard window decode each row group once).
/// </summary>
public sealed class ParquetVideoDataset : IShardedDataset<VideoSampleRecord>
{
    private readonly IReadOnlyList<string> _files;
    private readonly VideoColumns _columns;

    /// <param name="path">A shard file or a directory of <c>*.parquet</c> shards.</param>
    /// <param name="columns">The columns the samples need (others are never decoded).</param>
    public ParquetVideoDataset(string path, VideoColumns columns = VideoColumns.All)
    {
        _files = VideoShardReader.FindShards(path);
        _columns = columns;
        Shards = _files.Select(file =>
        {
            using var reader = ParquetFile.Open(file);
            VideoDatasetSchema.Check(reader);
            var info = new FileInfo(file);
            // The version makes the dataset fingerprint change when a shard is rewritten.
            return new ShardInfo(Path.GetFileName(file), reader.NumRows, $"{info.Length}-{info.LastWriteTimeUtc.Ticks}");
        }).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<ShardInfo> Shards { get; }

    /// <inheritdoc />
    public IShardReader<VideoSampleRecord> Open(int shard) => new ShardReader(_files[shard], _columns);

    private sealed class ShardReader : IShardReader<VideoSampleRecord>
    {
        private readonly ParquetFile _reader;
        private readonly VideoColumns _columns;
        private readonly long[] _firstRow;
        private int _decodedGroup = -1;
        private VideoRowGroup? _rows;

        public ShardReader(string file, VideoColumns columns)
        {
            _reader = ParquetFile.Open(file);
            try
            {
                VideoDatasetSchema.Check(_reader);
            }
            catch
            {
                _reader.Dispose();
                throw;
            }

            _columns = columns;
            _firstRow = new long[_reader.RowGroupCount + 1];
            for (var group = 0; group < _reader.RowGroupCount; group++)
            {
                _firstRow[group + 1] = _firstRow[group] + _reader.RowGroupRows[group];
            }
        }

        public IReadOnlyList<VideoSampleRecord> ReadRows(long start, int count)
        {
            if (start < 0 || count < 0 || start + count > _firstRow[^1])
            {
                throw new ArgumentOutOfRangeException(nameof(start), $"{_reader.Name}: rows [{start}, {start + count}) are outside its {_firstRow[^1]} rows");
            }

            var records = new VideoSampleRecord[count];
            for (var i = 0; i < count; i++)
            {
                var row = start + i;
                var group = Array.BinarySearch(_firstRow, row);
                group = group >= 0 ? group : ~group - 1;
                if (group != _decodedGroup)
                {
                    _rows = VideoShardReader.ReadRowGroup(_reader, group, _columns);
                    _decodedGroup = group;
                }

                records[i] = _rows!.Record((int)(row - _firstRow[group]), _columns);
            }

            return records;
        }

        public void Dispose() => _reader.Dispose();
    }
}
