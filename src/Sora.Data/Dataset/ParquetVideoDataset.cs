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
            using var reader = ParquetReader.Open(file);
            VideoDatasetSchema.Check(reader.Schema, file);
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
        private readonly ParquetReader _reader;
        private readonly VideoColumns _columns;
        private readonly ParquetColumn[] _wanted;
        private readonly ColumnBuffer[] _buffers;
        private readonly long[] _firstRow;
        private int _decodedGroup = -1;
        private VideoRowGroup? _rows;

        public ShardReader(string file, VideoColumns columns)
        {
            _reader = ParquetReader.Open(file);
            _columns = columns;
            _wanted = VideoShardReader.Requested(columns).Select(name => _reader.Schema.Column(name)).ToArray();
            _buffers = _wanted.Select(_ => new ColumnBuffer()).ToArray();
            _firstRow = new long[_reader.RowGroupCount + 1];
            for (var group = 0; group < _reader.RowGroupCount; group++)
            {
                _firstRow[group + 1] = _firstRow[group] + _reader.RowGroup(group).NumRows;
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
                Decode(group);
                records[i] = _rows!.Record((int)(row - _firstRow[group]), _columns);
            }

            return records;
        }

        public void Dispose()
        {
            foreach (var buffer in _buffers)
            {
                buffer.Dispose();
            }

            _reader.Dispose();
        }

        private void Decode(int group)
        {
            if (group == _decodedGroup)
            {
                return;
            }

            var rows = new VideoRowGroup(_reader.Name, group, (int)_reader.RowGroup(group).NumRows);
            for (var c = 0; c < _wanted.Length; c++)
            {
                _reader.ReadColumn(group, _wanted[c], _buffers[c]);
                rows.Add(_wanted[c], _buffers[c]);
            }

            _rows = rows;
            _decodedGroup = group;
        }
    }
}
