using Sora.Data.Loading;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Loading;

public class PlannedBatchReaderTests
{
    [Fact]
    public void A_rank_opens_only_its_planned_shards_reads_rows_as_runs_and_closes_every_shard()
    {
        var dataset = new RecordingDataset<long>(IndexDataset.Create(20, 20, 20, 20, 20, 20));
        var order = new SampleOrder(dataset.Shards, seed: 4, shardWindow: 1);
        var plan = new ShardPlanner(order, 8).Plan(order.Start(), worldSize: 2, batches: 3).ForRank(1);

        var batches = PlannedBatchReader.Read(dataset, plan).ToArray();
        batches.Select(b => b.Samples).Should().BeEquivalentTo(plan.Batches.Select(b => b.Samples.Select(s => s.Index)), o => o.WithStrictOrdering());
        dataset.Opened.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(plan.Reads.Select(r => r.Shard).Distinct());
        dataset.Opened.Count.Should().BeLessThan(dataset.Shards.Count, "with a window of one shard, 24 samples come from at most two shards");
        dataset.Reads.Should().OnlyContain(r => plan.Covers(new SampleAddress(0, r.Shard, r.Start)) && plan.Covers(new SampleAddress(0, r.Shard, r.Start + r.Count - 1)));
        dataset.OpenReaders.Should().Be(0);
    }

    [Fact]
    public void A_failing_read_names_the_rank_shard_and_rows_and_keeps_the_cause()
    {
        var order = new SampleOrder(IndexDataset.Create(10, 10).Shards, seed: 4, shardWindow: 2);
        var plan = new ShardPlanner(order, 20).Plan(order.Start(), worldSize: 1, batches: 1).ForRank(0);
        var dataset = new RecordingDataset<long>(IndexDataset.Create(10, 10)) { FailAt = (1, 6) };

        var act = () => PlannedBatchReader.Read(dataset, plan).ToArray();
        act.Should().Throw<DataLoadException>()
            .WithMessage("rank 0 of 1: reading shard 'shard-1' (#1) rows [*, *) failed: disk on fire at row 6")
            .Where(e => e.Range!.ShardId == "shard-1" && e.Range.Start <= 6 && e.Range.End > 6)
            .WithInnerException<IOException>();
        dataset.OpenReaders.Should().Be(0, "a failed read still closes the open shards");
    }

    [Fact]
    public void A_plan_for_another_shard_list_is_refused_before_anything_is_opened()
    {
        var order = new SampleOrder(IndexDataset.Create(10, 10).Shards, seed: 4, shardWindow: 2);
        var plan = new ShardPlanner(order, 4).Plan(order.Start(), worldSize: 1, batches: 1).ForRank(0);
        var renamed = new RecordingDataset<long>(new InMemoryShardedDataset<long>([("other-0", new long[10]), ("other-1", new long[10])]));

        var act = () => PlannedBatchReader.Read(renamed, plan);
        act.Should().Throw<DataLoadException>().WithMessage("*plan reads shard 'shard-*' as #*, but the dataset has 'other-*' there*");
        renamed.Opened.Should().BeEmpty();
    }

    [Fact]
    public void A_plan_whose_batches_need_rows_its_reads_do_not_list_is_refused()
    {
        var dataset = new RecordingDataset<long>(IndexDataset.Create(10, 10));
        var order = new SampleOrder(dataset.Shards, seed: 4, shardWindow: 2);
        var plan = new ShardPlanner(order, 4).Plan(order.Start(), worldSize: 1, batches: 2).ForRank(0);
        var missing = plan.Batches[1].Samples[2];
        var trimmed = plan with { Reads = plan.Reads.SelectMany(r => Split(r, missing)).ToArray() };

        var act = () => PlannedBatchReader.Read(dataset, trimmed);
        act.Should().Throw<DataLoadException>().WithMessage($"rank 0: the plan's batches need row {missing.Row} of shard 'shard-{missing.Shard}'*do not list*");
        dataset.Opened.Should().BeEmpty();
    }

    // The range without the given sample's row.
    private static IEnumerable<ShardRowRange> Split(ShardRowRange range, SampleAddress without)
    {
        if (range.Shard != without.Shard || without.Row < range.Start || without.Row >= range.End)
        {
            yield return range;
            yield break;
        }

        if (without.Row > range.Start)
        {
            yield return range with { Count = (int)(without.Row - range.Start) };
        }

        if (without.Row + 1 < range.End)
        {
            yield return range with { Start = without.Row + 1, Count = (int)(range.End - without.Row - 1) };
        }
    }
}
