using Sora.Checkpoint.Sharded;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>The coordinator's round decisions without an actor: when a join may end a round, how exits end one, fence retries, and what follows a round.</summary>
public sealed class RoundPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
    private static readonly HashSet<string> DitOnly = new(StringComparer.Ordinal) { "dit" };
    private static readonly HashSet<string> AllStages = new(StringComparer.Ordinal) { "vae", "dit" };

    [Fact]
    public void A_join_ends_a_round_only_for_a_larger_group_at_a_stage_with_checkpoints_once_one_was_committed_in_it()
    {
        var round = Running(number: 4, ranks: 2, resumedFrom: 40);
        RoundPolicy.ScaleUpBlocker(round, 2, DitOnly, Committed(48, 4)).Should().Contain("not more than");
        RoundPolicy.ScaleUpBlocker(round, 4, DitOnly, Committed(48, 4)).Should().Contain("same stage", "no rank reported yet");

        round.Record(Report(0, "dit", 48));
        round.Record(Report(1, "vae", 3));
        RoundPolicy.ScaleUpBlocker(round, 4, DitOnly, Committed(48, 4)).Should().Contain("same stage");

        round.Record(Report(1, "dit", 48));
        RoundPolicy.ScaleUpBlocker(round, 4, DitOnly, Committed(40, 3)).Should().Contain("first dit checkpoint", "the pointer names an older round");
        RoundPolicy.ScaleUpBlocker(round, 4, DitOnly, Committed(40, 4)).Should().Contain("first dit checkpoint", "fenced, but nothing committed since it resumed");
        RoundPolicy.ScaleUpBlocker(round, 4, DitOnly, Committed(48, 4)).Should().BeNull();
    }

    [Fact]
    public void A_stage_without_checkpoints_is_never_cut_short_and_one_given_checkpoints_is()
    {
        var round = Running(number: 1, ranks: 1, resumedFrom: 0);
        round.Record(Report(0, "vae", 30));
        RoundPolicy.ScaleUpBlocker(round, 2, DitOnly, Committed(30, 1)).Should().Contain("the vae stage has no checkpoints");
        RoundPolicy.ScaleUpBlocker(round, 2, AllStages, Committed(30, 1) with { Stage = "vae" }).Should().BeNull();
    }

    [Fact]
    public void A_checkpoint_of_a_later_stage_counts_as_committed_since_a_round_resumed_in_an_earlier_one()
    {
        var round = Running(number: 5, ranks: 1, resumedFrom: 300, resumedStage: "vae");
        round.Record(Report(0, "dit", 4));
        RoundPolicy.ScaleUpBlocker(round, 2, AllStages, Committed(300, 5) with { Stage = "vae" }).Should().Contain("first dit checkpoint");
        RoundPolicy.ScaleUpBlocker(round, 2, AllStages, Committed(4, 5)).Should().BeNull("DiT step 4 comes after VAE step 300");
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(137, RoundEndKind.WorkerFailed)]
    [InlineData(1, RoundEndKind.WorkerFailed)]
    [InlineData(78, RoundEndKind.Fatal)]
    public void A_workers_exit_ends_its_round_by_its_code(int exitCode, RoundEndKind? kind)
    {
        var end = RoundPolicy.OnWorkerExit(new WorkerExited("a", 1, 0, exitCode, false, "line 1\nerror: data.path x is missing", "rank-0.log"), T0);
        end?.Kind.Should().Be(kind);
        if (kind == RoundEndKind.Fatal)
        {
            end!.Cause.Should().Contain("configuration or data error").And.Contain("error: data.path x is missing");
            end.Graceful.Should().BeFalse();
        }
        else if (kind is null)
        {
            end.Should().BeNull();
        }
    }

    [Fact]
    public void Fence_errors_are_retried_with_doubling_waits_except_those_that_do_not_heal()
    {
        var io = new IOException("timeout");
        Enumerable.Range(1, RoundPolicy.FenceAttempts - 1).Select(a => RoundPolicy.FenceRetry(a, io)!.Value.TotalSeconds).Should().Equal(1, 2, 4, 8, 16);
        RoundPolicy.FenceRetry(RoundPolicy.FenceAttempts, io).Should().BeNull();
        RoundPolicy.FenceRetry(1, new StaleRoundException(3, null, 5, "latest", "store")).Should().BeNull();
        RoundPolicy.FenceRetry(1, new CheckpointFormatException("latest", "bad pointer")).Should().BeNull();
    }

    [Fact]
    public void After_a_round_failures_spend_the_budget_errors_that_recur_and_stops_end_the_job_and_a_larger_group_costs_nothing()
    {
        var budget = new RestartBudget(1);
        After(RoundEndKind.ScaleUp, budget).Ends.Should().BeFalse();
        budget.Used.Should().Be(0);

        var failed = After(RoundEndKind.WorkerFailed, budget);
        failed.Ends.Should().BeFalse();
        failed.Message.Should().Contain("restart 1 of 1");

        var spent = After(RoundEndKind.Hang, budget);
        spent.Ends.Should().BeTrue();
        spent.State.Should().Be(JobStates.Failed);
        spent.Message.Should().Contain("the restart budget (1) is spent");

        var fatal = After(RoundEndKind.Fatal, new RestartBudget(3));
        fatal.Ends.Should().BeTrue();
        fatal.Message.Should().Contain("not retried");

        var stopped = After(RoundEndKind.Stop, new RestartBudget(3));
        stopped.State.Should().Be(JobStates.Stopped);
        stopped.Success.Should().BeTrue();
        stopped.Message.Should().Contain("without a stop report from rank 0");
    }

    private static AfterRound After(RoundEndKind kind, RestartBudget budget)
    {
        var round = Running(number: 2, ranks: 1, resumedFrom: 0);
        round.Ending(new RoundEnd("cause", kind, Graceful: false, T0));
        return RoundPolicy.After(round, "job", budget, "store", null);
    }

    private static Round Running(long number, int ranks, long resumedFrom, string resumedStage = "dit")
    {
        var nodes = new[] { new CandidateNode("a", ranks, 0) };
        var round = new Round(number, new RoundPlan(nodes, [.. Enumerable.Range(0, ranks).Select(r => ("a", r))]));
        round.Start(T0, resumedFrom, resumedFrom > 0 ? resumedStage : "");
        return round;
    }

    private static CommittedCheckpoint Committed(long step, long round) => new(step, round, null);

    private static WorkerReport Report(int rank, string stage, long step) => new(rank, 100 + rank, "running", stage, step, 100, 0, 0.5, 0.1, 0);
}
