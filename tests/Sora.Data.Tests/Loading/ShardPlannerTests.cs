using System.Text.Json;
using Sora.Data.Loading;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Loading;

public class ShardPlannerTests
{
    private static readonly InMemoryShardedDataset<long> Dataset = IndexDataset.Create(7, 13, 5, 11, 9, 6);

    [Fact]
    public void Rank_plans_are_slices_of_the_global_order_and_their_reads_cover_exactly_their_samples()
    {
        var order = new SampleOrder(Dataset.Shards, seed: 9, shardWindow: 2);
        var planner = new ShardPlanner(order, globalBatchSize: 12);
        var start = order.Advance(order.Start(), 40);
        var plan = planner.Plan(start, worldSize: 3, batches: 2);

        var expected = order.From(start, 24).ToArray();
        var interleaved = Enumerable.Range(0, 2).SelectMany(b => plan.Ranks.SelectMany(r => r.Batches[b].Samples)).ToArray();
        interleaved.Should().Equal(expected);
        plan.End.Should().Be(order.Advance(start, 24));
        plan.End.Epoch.Should().Be(1, "the second batch crosses into epoch 1");
        plan.Ranks[1].Batches[0].CursorAfter.Should().Be(order.Advance(start, 12));

        foreach (var rank in plan.Ranks)
        {
            var rows = rank.Reads.SelectMany(r => Enumerable.Range(0, r.Count).Select(i => (r.Shard, r.Start + i))).ToArray();
            rows.Should().BeEquivalentTo(rank.Batches.SelectMany(b => b.Samples).Select(s => (s.Shard, s.Row)).Distinct());
            rank.Reads.Should().OnlyContain(r => r.ShardId == Dataset.Shards[r.Shard].Id);
        }
    }

    [Fact]
    public void A_plan_serialises_to_json_for_the_control_plane_and_back()
    {
        var order = new SampleOrder(Dataset.Shards, seed: 9, shardWindow: 2);
        var plan = new ShardPlanner(order, 4).Plan(order.Start(), worldSize: 2, batches: 3).ForRank(1);
        var json = JsonSerializer.Serialize(plan);
        var back = JsonSerializer.Deserialize<RankShardPlan>(json)!;
        back.Batches.SelectMany(b => b.Samples).Should().Equal(plan.Batches.SelectMany(b => b.Samples));
        back.Reads.Should().Equal(plan.Reads);
        back.End.Should().Be(plan.End);
    }

    [Fact]
    public void Planning_rejects_an_uneven_split_and_a_cursor_from_another_dataset()
    {
        var order = new SampleOrder(Dataset.Shards, seed: 9, shardWindow: 2);
        var planner = new ShardPlanner(order, 12);
        var uneven = () => planner.Plan(order.Start(), worldSize: 5, batches: 1);
        uneven.Should().Throw<ArgumentException>().WithMessage("*global batch size 12*world size 5*");
        var foreign = () => planner.Plan(order.Start() with { Fingerprint = "sha256:other" }, worldSize: 2, batches: 1);
        foreign.Should().Throw<DataCursorMismatchException>().WithMessage("*sha256:other*");
    }
}
