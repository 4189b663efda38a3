using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Sora.Data.Loading;
using Sora.Data.Parquet;
using Sora.Data.Storage;

namespace Sora.Data.Dataset;

/// <summary>
/// Video dataset shards (Parquet) in a directory or a blob container, as the loaders see them: one shard per file,
/// its row count from the footer, and rows read by index range, one row group decoded at a time (the last one is
/// kept, so the mostly sequential reads of a shard window decode each row group once), or many runs at once with
/// each row group they touch decoded once, on several threads (<see cref="IBlockShardReader{TSample}"/>).
/// </summary>
public sealed class ParquetVideoDataset : IShardedDataset<VideoSampleRecord>
{
    private readonly IShardSource _source;
    private readonly IReadOnlyList<ShardObject> _objects;
    private readonly VideoColumns _columns;

    /// <param name="path">A shard file, a directory of <c>*.parquet</c> shards, or a blob location (see <see cref="ShardStorage.OpenSource"/>).</param>
    /// <param name="columns">The columns the samples need (others are never decoded).</param>
    public ParquetVideoDataset(string path, VideoColumns columns = VideoColumns.All)
        : this(ShardStorage.OpenSource(path), columns)
    {
    }

    /// <param name="source">Where the shards are.</param>
    /// <param name="columns">The columns the samples need (others are never decoded).</param>
    public ParquetVideoDataset(IShardSource source, VideoColumns columns = VideoColumns.All)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _objects = source.List();
        _columns = columns;
        Shards = _objects.Select(shard =>
        {
            using var reader = OpenShard(source, shard);
            // The version makes the dataset fingerprint change when a shard is rewritten.
            return new ShardInfo(shard.Name, reader.NumRows, shard.Version);
        }).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<ShardInfo> Shards { get; }

    /// <inheritdoc />
    public IShardReader<VideoSampleRecord> Open(int shard) => new ShardReader(() => OpenShard(_source, _objects[shard]), _columns);

    /// <summary>Opens one shard of <paramref name="source"/> and checks it holds the video dataset schema.</summary>
    public static ParquetFile OpenShard(IShardSource source, ShardObject shard)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = ParquetFile.Open(source.OpenRead(shard), source.Describe(shard));
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

    private sealed class ShardReader : IBlockShardReader<VideoSampleRecord>
    {
        private readonly Func<ParquetFile> _open;
        private readonly ParquetFile _reader;
        private readonly VideoColumns _columns;
        private readonly long[] _firstRow;
        private readonly ConcurrentBag<ParquetFile> _spares = [];
        private int _decodedGroup = -1;
        private VideoRowGroup? _rows;

        public ShardReader(Func<ParquetFile> open, VideoColumns columns)
        {
            _open = open;
            _reader = open();
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
                    () => _spares.TryTake(out var spare) ? spare : _open(),
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
