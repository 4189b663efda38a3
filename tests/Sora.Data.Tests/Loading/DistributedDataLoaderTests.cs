using Sora.Data.Loading;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Loading;

public class DistributedDataLoaderTests
{
    private const int GlobalBatchSize = 12;
    private const int TotalSteps = 12;
    private static readonly DataLoaderOptions Options = new() { Seed = 21, GlobalBatchSize = GlobalBatchSize, ShardWindow = 2, PlanBatches = 3, PrefetchBatches = 2 };

    // 51 samples: an epoch ends inside step 5 (sample 51) and inside step 9 (sample 102).
    private static InMemoryShardedDataset<long> NewDataset() => IndexDataset.Create(7, 13, 5, 11, 9, 6);

    public static TheoryData<int, int> WorldSizes()
    {
        var data = new TheoryData<int, int>();
        for (var n = 1; n <= 4; n++)
        {
            for (var m = 1; m <= 4; m++)
            {
                data.Add(n, m);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void What_N_ranks_read_before_a_stop_and_M_ranks_after_resuming_equals_the_uninterrupted_single_rank_sequence(int n, int m)
    {
        var reference = Read(NewDataset(), worldSize: 1, steps: TotalSteps, resumeFrom: null, out _).Samples;
        reference.Should().HaveCount(TotalSteps * GlobalBatchSize);
        reference.Take(51).Should().BeEquivalentTo(Enumerable.Range(0, 51).Select(i => (long)i), "the first epoch visits every sample once");

        var stop = 2 + (n * m % 7);
        var before = Read(NewDataset(), n, stop, resumeFrom: null, out var cursor);
        var saved = DataCursor.FromJson(cursor.ToJson());
        var after = Read(NewDataset(), m, TotalSteps - stop, saved, out var end);

        before.Samples.Concat(after.Samples).Should().Equal(reference, $"{n} ranks stopped after step {stop} and {m} ranks resumed");
        end.Epoch.Should().BeGreaterThan(saved.Epoch, "the resumed part crosses an epoch boundary");
        before.OpenedOnlyPlannedShards.Should().BeTrue();
        after.OpenedOnlyPlannedShards.Should().BeTrue();
    }

    [Fact]
    public void Resuming_against_a_changed_dataset_or_another_seed_is_a_clear_error()
    {
        using (var loader = new DistributedDataLoader<long>(NewDataset(), Options, 0, 1))
        {
            loader.Next();
            var cursor = loader.Cursor;

            var grown = IndexDataset.Create(7, 13, 5, 11, 9, 7);
            var changed = () => new DistributedDataLoader<long>(grown, Options, 0, 2, cursor);
            changed.Should().Throw<DataCursorMismatchException>().WithMessage($"*written for dataset {cursor.Fingerprint} but the dataset now is sha256:*(6 shards, 52 samples)*");

            var reseeded = () => new DistributedDataLoader<long>(NewDataset(), Options with { Seed = 22 }, 0, 2, cursor);
            reseeded.Should().Throw<DataCursorMismatchException>().WithMessage("*seed 21*seed 22*");
        }

        var uneven = () => new DistributedDataLoader<long>(NewDataset(), Options, 0, 5);
        uneven.Should().Throw<ArgumentException>().WithMessage("*global batch size 12*world size 5*");
    }

    [Fact]
    public void Prefetching_stays_within_its_bound_and_dispose_stops_the_worker_and_closes_shards()
    {
        var dataset = new RecordingDataset<long>(IndexDataset.Create(100));
        var options = new DataLoaderOptions { Seed = 1, GlobalBatchSize = 4, ShardWindow = 1, PlanBatches = 5, PrefetchBatches = 2 };
        var loader = new DistributedDataLoader<long>(dataset, options, rank: 0, worldSize: 1);
        for (var taken = 0; taken < 8; taken++)
        {
            var ahead = (taken + options.PrefetchBatches + 1) * 4;
            BatchPrefetcherTests.WaitUntil(() => dataset.RowsRead >= ahead);
            dataset.RowsRead.Should().Be(ahead, "two batches queued and one being handed over, no more");
            loader.Buffered.Should().Be(options.PrefetchBatches);
            loader.Next().Samples.Should().HaveCount(4);
        }

        loader.Dispose();
        loader.Worker.IsCompleted.Should().BeTrue();
        dataset.OpenReaders.Should().Be(0);
    }

    [Fact]
    public void A_read_error_surfaces_on_the_consumer_naming_shard_rows_and_rank()
    {
        var dataset = new RecordingDataset<long>(NewDataset()) { FailAt = (3, 4) };
        using var loader = new DistributedDataLoader<long>(dataset, Options, rank: 1, worldSize: 2);
        var act = () =>
        {
            for (var step = 0; step < 10; step++)
            {
                loader.Next();
            }
        };
        act.Should().Throw<DataLoadException>().WithMessage("rank 1 of 2: reading shard 'shard-3' (#3) rows [*) failed: disk on fire at row 4")
            .WithInnerException<IOException>();
    }

    [Fact]
    public void The_moving_shapes_generator_serves_as_a_sharded_dataset()
    {
        var generator = new Sora.Data.Synthetic.MovingShapesGenerator(Sora.Data.Synthetic.MovingShapesOptions.SmallCpu, seed: 5);
        var dataset = new MovingShapesShardedDataset(generator, count: 10, shardRows: 4);
        dataset.Shards.Select(s => s.Rows).Should().Equal(4, 4, 2);
        using var loader = new DistributedDataLoader<Sora.Data.Synthetic.MovingShapesSample>(
            dataset, new DataLoaderOptions { Seed = 3, GlobalBatchSize = 4, ShardWindow = 3 }, rank: 1, worldSize: 2);
        var batch = loader.Next();
        batch.Samples.Select(s => s.Index).Should().Equal(batch.Addresses.Select(a => a.Index));
        batch.Samples.Should().OnlyContain(s => s.Caption == generator.Generate(s.Index).Caption);

        var otherOptions = new MovingShapesShardedDataset(new(Sora.Data.Synthetic.MovingShapesOptions.Default, seed: 5), 10, 4);
        DatasetFingerprint.Of(otherOptions.Shards).Should().NotBe(DatasetFingerprint.Of(dataset.Shards));
    }

    private sealed record Run(List<long> Samples, bool OpenedOnlyPlannedShards);

    // N ranks read `steps` global batches, each rank with its own view of the dataset and plans from one control
    // plane; the samples are gathered in rank order per step (as the global batch).
    private static Run Read(InMemoryShardedDataset<long> shared, int worldSize, int steps, DataCursor? resumeFrom, out DataCursor cursor)
    {
        var planner = new ShardPlanner(new SampleOrder(shared.Shards, Options.Seed, Options.ShardWindow), GlobalBatchSize);
        var views = Enumerable.Range(0, worldSize).Select(_ => new RecordingDataset<long>(shared)).ToArray();
        var planned = Enumerable.Range(0, worldSize).Select(_ => new List<RankShardPlan>()).ToArray();
        var loaders = Enumerable.Range(0, worldSize).Select(rank => new DistributedDataLoader<long>(
            views[rank], Options, rank, worldSize, resumeFrom, c =>
            {
                var plan = planner.Plan(c, worldSize, Options.PlanBatches).ForRank(rank);
                planned[rank].Add(plan);
                return plan;
            })).ToArray();

        var samples = new List<long>();
        for (var step = 0; step < steps; step++)
        {
            foreach (var loader in loaders)
            {
                samples.AddRange(loader.Next().Samples);
            }

            loaders.Select(l => l.Cursor).Distinct().Should().ContainSingle("every rank holds the same global cursor");
        }

        cursor = loaders[0].Cursor;
        foreach (var loader in loaders)
        {
            loader.Dispose();
        }

        var onlyPlanned = Enumerable.Range(0, worldSize).All(rank =>
            views[rank].Opened.All(shard => planned[rank].Any(p => p.Reads.Any(r => r.Shard == shard))) &&
            views[rank].Reads.All(read => planned[rank].Any(p => p.Reads.Any(r => r.Shard == read.Shard && r.Start <= read.Start && read.Start + read.Count <= r.End))));
        return new Run(samples, onlyPlanned);
    }
}
