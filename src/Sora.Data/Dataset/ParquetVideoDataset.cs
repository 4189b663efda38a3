using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
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

    private sealed class ShardReader : IBlockShardReader<VideoSampleRecord>
    {
        private readonly string _file;
        private readonly ParquetFile _reader;
        private readonly VideoColumns _columns;
        private readonly long[] _firstRow;
        private readonly ConcurrentBag<ParquetFile> _spares = [];
        private int _decodedGroup = -1;
        private VideoRowGroup? _rows;

        public ShardReader(string file, VideoColumns columns)
        {
            _file = file;
            _reader = Open(file);
            _spares.Add(_reader); // the first decoding thread uses it; more threads open the file again
            _columns = columns;
            _firstRow = new long[_reader.RowGroupCount + 1];
            for (var group = 0; group < _reader.RowGroupCount; group++)
            {
                _firstRow[group + 1] = _firstRow[group] + _reader.RowGroupRows[group];
            }
        }

        public IReadOnlyList<VideoSampleRecord> ReadRows(long start, int count)
        {
            CheckRows(start, count);
            var records = new VideoSampleRecord[count];
            for (var i = 0; i < count; i++)
            {
                var row = start + i;
                var group = GroupOf(row);
                if (group != _decodedGroup)
                {
                    _rows = VideoShardReader.ReadRowGroup(_reader, group, _columns);
                    _decodedGroup = group;
                }

                records[i] = _rows!.Record((int)(row - _firstRow[group]), _columns);
            }

            return records;
        }

        /// <summary>Decodes each row group the runs touch once, up to <paramref name="threads"/> at a time (each thread on its own handle of the file).</summary>
        public IReadOnlyList<VideoSampleRecord> ReadRanges(IReadOnlyList<ShardRowRange> ranges, int threads)
        {
            var wanted = new List<(long Row, int Index)>();
            foreach (var range in ranges)
            {
                CheckRows(range.Start, range.Count);
                for (var i = 0; i < range.Count; i++)
                {
                    wanted.Add((range.Start + i, wanted.Count));
                }
            }

            var records = new VideoSampleRecord[wanted.Count];
            var groups = wanted.GroupBy(w => GroupOf(w.Row)).ToArray();
            try
            {
                Parallel.ForEach(
                    groups,
                    new ParallelOptions { MaxDegreeOfParallelism = threads },
                    () => _spares.TryTake(out var spare) ? spare : Open(_file),
                    (group, _, parquet) =>
                    {
                        var rows = VideoShardReader.ReadRowGroup(parquet, group.Key, _columns);
                        foreach (var (row, index) in group)
                        {
                            records[index] = rows.Record((int)(row - _firstRow[group.Key]), _columns);
                        }

                        return parquet;
                    },
                    _spares.Add);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                // One failure is what the caller reports (the first: it names the file, row group and column).
                ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            }

            return records;
        }

        public void Dispose()
        {
            // Every handle, the first one included, is back in the bag once ReadRanges returns.
            while (_spares.TryTake(out var spare))
            {
                spare.Dispose();
            }
        }

        private static ParquetFile Open(string file)
        {
            var reader = ParquetFile.Open(file);
            try
            {
                VideoDatasetSchema.Check(reader);
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        private void CheckRows(long start, int count)
        {
            if (start < 0 || count < 0 || start + count > _firstRow[^1])
            {
                throw new ArgumentOutOfRangeException(nameof(start), $"{_reader.Name}: rows [{start}, {start + count}) are outside its {_firstRow[^1]} rows");
            }
        }

        private int GroupOf(long row)
        {
            var group = Array.BinarySearch(_firstRow, row);
            return group >= 0 ? group : ~group - 1;
        }
    }
}
