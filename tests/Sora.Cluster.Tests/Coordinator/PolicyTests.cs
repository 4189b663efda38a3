using Sora.Cluster.Coordinator;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

public sealed class PolicyTests
{
    [Theory]
    [InlineData("2", 2, 2)]
    [InlineData("1:4", 1, 4)]
    public void Nnodes_reads_N_and_MIN_MAX(string text, int min, int max) => FaultPolicy.ParseNodes(text).Should().Be((min, max));

    [Theory]
    [InlineData("0")]
    [InlineData("3:2")]
    [InlineData("a:b")]
    [InlineData("1:2:3")]
    public void Nnodes_refuses_what_is_not_a_range(string text) =>
        FluentActions.Invoking(() => FaultPolicy.ParseNodes(text)).Should().Throw<ArgumentException>().WithMessage($"*--nnodes*{text}*");

    [Fact]
    public void A_plan_waits_for_the_minimum_and_names_the_count()
    {
        RendezvousPolicy.Plan([new CandidateNode("a", 1, 0)], 2, 3, [("train.batch_size", 8)], out var reason).Should().BeNull();
        reason.Should().Contain("1 of at least 2");
    }

    [Fact]
    public void A_plan_names_the_batch_when_no_world_size_divides_it()
    {
        RendezvousPolicy.Plan([new CandidateNode("a", 3, 0)], 1, 1, [("train.batch_size", 8)], out var reason).Should().BeNull();
        reason.Should().Be("train.batch_size (8) must be a multiple of the world size (3): each rank trains on an equal share of every global batch");
    }

    [Fact]
    public void The_watchdog_scales_its_automatic_timeout_with_the_slowest_step()
    {
        var start = DateTimeOffset.UnixEpoch;
        var watchdog = new HangWatchdog(configured: null);
        watchdog.Reset([0, 1], start);
        watchdog.Timeout.Should().Be(HangWatchdog.Floor);
        watchdog.Observe(1, 0, stepSeconds: 30, start);
        watchdog.Timeout.Should().Be(TimeSpan.FromSeconds(30 * HangWatchdog.StepMultiple));
        watchdog.Hung(start + TimeSpan.FromSeconds(500)).Should().BeEmpty();
        watchdog.Hung(start + TimeSpan.FromSeconds(601)).Select(h => h.Rank).Should().BeEquivalentTo([0, 1]);
    }

    [Fact]
    public void The_budget_counts_restarts_and_refuses_past_the_maximum()
    {
        var budget = new RestartBudget(1);
        budget.TrySpend(new RestartRecord(1, DateTimeOffset.UnixEpoch, "x", "hang")).Should().BeTrue();
        budget.TrySpend(new RestartRecord(2, DateTimeOffset.UnixEpoch, "y", "hang")).Should().BeFalse();
        budget.Left.Should().Be(0);
        budget.History.Should().ContainSingle();
    }
}
