using Sora.Data.Dataset;
using Sora.Data.Loading;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Dataset;

public class ParquetVideoDatasetTests
{
    [Fact]
    public void Row_ranges_across_row_groups_and_shards_read_the_written_records()
    {
        using var temp = new TempDirectory();
        var samples = Write(temp.Path, count: 23, rowsPerGroup: 4, rowsPerShard: 10);
        var dataset = new ParquetVideoDataset(temp.Path);
        dataset.Shards.Select(s => s.Rows).Should().Equal(10, 10, 3);

        using var shard = dataset.Open(1);
        var rows = shard.ReadRows(3, 6); // rows 13..18: crosses the row groups [12, 16) and [16, 20)
        rows.Select(r => r.Id).Should().Equal(samples.Skip(13).Take(6).Select(s => s.Id));
        rows[0].Payload.Should().Equal(samples[13].Payload);
        var outside = () => shard.ReadRows(8, 3);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*part-00001.parquet: rows [8, 11) are outside its 10 rows*");
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(3, 1)]
    public void Loading_parquet_shards_resumes_on_another_world_size_at_the_next_global_sample(int before, int after)
    {
        using var temp = new TempDirectory();
        Write(temp.Path, count: 30, rowsPerGroup: 4, rowsPerShard: 7);
        var dataset = new ParquetVideoDataset(temp.Path, VideoColumns.Id);
        var options = new DataLoaderOptions { Seed = 5, GlobalBatchSize = 6, ShardWindow = 2 };

        var expected = Read(dataset, options, worldSize: 1, steps: 9, resumeFrom: null).Ids;
        var (first, cursor) = Read(dataset, options, before, steps: 4, resumeFrom: null);
        var (second, _) = Read(dataset, options, after, steps: 5, resumeFrom: DataCursor.FromJson(cursor.ToJson()));
        first.Concat(second).Should().Equal(expected, "the global sequence does not depend on the ranks reading it");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(5, 3)]
    public void Reading_batches_ahead_on_several_threads_gives_the_same_samples_in_the_same_order(int readAheadBatches, int decodeThreads)
    {
        using var temp = new TempDirectory();
        var samples = Write(temp.Path, count: 41, rowsPerGroup: 3, rowsPerShard: 11);
        var dataset = new ParquetVideoDataset(temp.Path);
        var options = new DataLoaderOptions { Seed = 9, GlobalBatchSize = 6, ShardWindow = 3, PlanBatches = 4 };
        var expected = Read(dataset, options, worldSize: 2, steps: 12, resumeFrom: null).Ids;

        var parallel = options with { ReadAheadBatches = readAheadBatches, DecodeThreads = decodeThreads };
        var (first, cursor) = Read(dataset, parallel, worldSize: 2, steps: 5, resumeFrom: null);
        var (second, _) = Read(dataset, parallel, worldSize: 3, steps: 7, resumeFrom: cursor);
        first.Concat(second).Should().Equal(expected, "read-ahead and threads change how rows are decoded, never which rows come when");

        using var loader = new DistributedDataLoader<VideoSampleRecord>(dataset, parallel, rank: 0, worldSize: 1);
        foreach (var record in Enumerable.Range(0, 8).SelectMany(_ => loader.Next().Samples))
        {
            record.Payload.Should().Equal(samples.Single(s => s.Id == record.Id).Payload);
        }
    }

    [Fact]
    public void A_block_read_decodes_each_row_group_once_and_returns_the_runs_in_order()
    {
        using var temp = new TempDirectory();
        var samples = Write(temp.Path, count: 20, rowsPerGroup: 4, rowsPerShard: 20);
        var dataset = new ParquetVideoDataset(temp.Path);
        using var shard = (IBlockShardReader<VideoSampleRecord>)dataset.Open(0);
        ShardRowRange[] runs = [new(0, "part-00000.parquet", 1, 2), new(0, "part-00000.parquet", 5, 1), new(0, "part-00000.parquet", 7, 6), new(0, "part-00000.parquet", 19, 1)];
        shard.ReadRanges(runs, threads: 3).Select(r => r.Id).Should().Equal(new[] { 1, 2, 5, 7, 8, 9, 10, 11, 12, 19 }.Select(i => samples[i].Id));
        var outside = () => shard.ReadRanges([new(0, "part-00000.parquet", 18, 3)], threads: 2);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*rows [18, 21) are outside its 20 rows*");
    }

    /// <summary>Every rank's ids, step by step and rank by rank (the global order), and the cursor after the last step.</summary>
    internal static (List<string> Ids, DataCursor Cursor) Read(ParquetVideoDataset dataset, DataLoaderOptions options, int worldSize, int steps, DataCursor? resumeFrom)
    {
        var loaders = Enumerable.Range(0, worldSize).Select(rank => new DistributedDataLoader<VideoSampleRecord>(dataset, options, rank, worldSize, resumeFrom)).ToList();
        var ids = new List<string>();
        var cursor = resumeFrom;
        for (var step = 0; step < steps; step++)
        {
            foreach (var loader in loaders)
            {
                var batch = loader.Next(); // rank r's share is the r-th slice of the global batch
                ids.AddRange(batch.Samples.Select(s => s.Id));
                cursor = batch.CursorAfter;
            }
        }

        loaders.ForEach(l => l.Dispose());
        return (ids, cursor!);
    }

    private static List<VideoSampleRecord> Write(string directory, int count, int rowsPerGroup, int rowsPerShard)
    {
        var samples = VideoShardWriterTests.Samples(count);
        using var writer = new VideoShardWriter(directory, new VideoShardWriterOptions { RowsPerRowGroup = rowsPerGroup, MaxRowsPerShard = rowsPerShard });
        foreach (var sample in samples)
        {
            writer.Write(sample);
        }

        return samples.ToList();
    }
}
