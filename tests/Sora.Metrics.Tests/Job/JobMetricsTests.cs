using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;

namespace Sora.Metrics.Tests.Job;

/// <summary>The job's aggregated state: counters that survive restarts, a bounded history, stragglers, checkpoints and rounds.</summary>
public sealed class JobMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static readonly JobInfo Info = new("job", "job-1", "dit-d4-h128", 100, "1.0.0", "/ckpt");

    [Fact]
    public void Job_counters_follow_rank_zero_and_survive_a_worker_restart()
    {
        var metrics = new JobMetrics(Info);
        metrics.Publish(Status(1, 2), [Report(0, pid: 10, steps: 5, samples: 40), Report(1, pid: 11, steps: 5, samples: 40)], T0);
        metrics.Publish(Status(1, 2), [Report(0, pid: 10, steps: 8, samples: 64), Report(1, pid: 11, steps: 8, samples: 64)], T0.AddSeconds(1));

        // A new round: new processes count from zero again.
        metrics.Publish(Status(2, 2), [Report(0, pid: 20, steps: 3, samples: 24), Report(1, pid: 21, steps: 3, samples: 24)], T0.AddSeconds(2));

        var totals = metrics.Totals;
        totals.Steps.Should().Be(11, "8 steps in the first process and 3 in the second; the ranks' counts are not added up");
        totals.Samples.Should().Be(88);
        metrics.Job!.StepsTotal.Should().Be(11);
    }

    [Fact]
    public void A_rank_much_busier_than_the_others_is_a_straggler()
    {
        var metrics = new JobMetrics(Info, stragglerRatio: 1.5);
        var status = Status(1, 4);
        metrics.Publish(status, [Busy(0, 0.10), Busy(1, 0.11), Busy(2, 0.32), Busy(3, 0.09)], T0);

        metrics.Ranks.Where(r => r.Straggler).Select(r => r.Rank).Should().Equal(2);
        metrics.Ranks[2].StepTimeRatio.Should().BeApproximately(0.32 / 0.10, 1e-9);
        metrics.Job!.Stragglers.Should().Equal(2);

        metrics.Publish(status, [Busy(0, 0.10), Busy(1, 0.11), Busy(2, 0.12), Busy(3, 0.09)], T0.AddSeconds(1));
        metrics.Ranks.Should().NotContain(r => r.Straggler);
    }

    [Fact]
    public void Two_ranks_compare_with_each_other_and_one_rank_is_never_a_straggler()
    {
        var two = new JobMetrics(Info);
        two.Publish(Status(1, 2), [Busy(0, 0.1), Busy(1, 0.2)], T0);
        two.Ranks.Select(r => r.Straggler).Should().Equal(false, true);

        var one = new JobMetrics(Info);
        one.Publish(Status(1, 1), [Busy(0, 5)], T0);
        one.Ranks.Single().Straggler.Should().BeFalse();
        one.Ranks.Single().StepTimeRatio.Should().Be(1);
    }

    [Fact]
    public void The_history_has_every_step_once_and_stays_bounded_over_a_long_run()
    {
        var metrics = new JobMetrics(Info, historyCapacity: 100);
        for (var second = 0; second < 200; second++)
        {
            // Each report carries the last 10 steps; consecutive reports overlap by 5.
            var last = (second * 5) + 10;
            var steps = Enumerable.Range(last - 9, 10).Select(s => (long)s).ToArray();
            metrics.Publish(Status(1, 1), [new RankReport(0, 1, new RankMetrics
            {
                Stage = "dit", Step = last, StepsTotal = last, SamplesTotal = last * 8L, StepSeconds = 0.1,
                RecentSteps = steps, RecentStepSeconds = [.. steps.Select(_ => 0.1)], RecentLosses = [.. steps.Select(s => 1.0 / s)],
            })], T0.AddSeconds(second));
        }

        var history = metrics.History();
        history.Count.Should().BeLessThanOrEqualTo(101);
        history.Select(h => h.Step).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        history[0].Step.Should().BeLessThan(20, "the start of the run is kept");
        history[^1].Step.Should().Be(1005, "and its end");
        metrics.History(afterTime: T0.AddSeconds(198).ToUnixTimeMilliseconds() / 1000.0).Should().OnlyContain(h => h.Step > 990);
    }

    [Fact]
    public void A_checkpoint_sums_its_shards_and_takes_its_commit_time_from_rank_zero()
    {
        var metrics = new JobMetrics(Info);
        var committedAt = T0.AddSeconds(3);
        metrics.Publish(Status(1, 2),
        [
            new RankReport(0, 1, new RankMetrics { CheckpointSaveStep = 50, CheckpointSaveBytes = 1000, CheckpointSaveSeconds = 0.2, CommittedStep = 50, CommittedAtUnixSeconds = committedAt.ToUnixTimeSeconds() }),
            new RankReport(1, 2, new RankMetrics { CheckpointSaveStep = 50, CheckpointSaveBytes = 600, CheckpointSaveSeconds = 0.5 }),
        ], T0.AddSeconds(4));

        var checkpoint = metrics.Checkpoints.Single();
        checkpoint.Should().Be(new CheckpointView(50, 1600, 0.5, committedAt, "/ckpt"));
        metrics.Job!.LastCheckpoint!.Step.Should().Be(50, "the last commit a rank reported is newer than the one the round started from");
        metrics.Status!.LastCheckpoint!.Step.Should().Be(50, "sora status reads the same state");
    }

    [Fact]
    public void Rounds_are_a_timeline_with_the_cause_that_ended_each()
    {
        var metrics = new JobMetrics(Info);
        metrics.Publish(Status(1, 2), [], T0);
        var restart = new RestartRecord(1, T0.AddSeconds(10), "rank 1 on node 'a' failed: signal 9 (SIGKILL)", "worker-exit");
        metrics.Publish(Status(2, 1) with { Restarts = [restart] }, [], T0.AddSeconds(12));

        metrics.Job!.Rounds.Should().Equal(
            new RoundView(1, 2, T0, T0.AddSeconds(10), "worker-exit: rank 1 on node 'a' failed: signal 9 (SIGKILL)"),
            new RoundView(2, 1, T0.AddSeconds(12), null, null));
    }

    [Fact]
    public async Task A_reader_waiting_for_a_change_wakes_at_the_next_publish()
    {
        var metrics = new JobMetrics(Info);
        var version = metrics.Version;
        var waiting = metrics.WaitForChangeAsync(version, CancellationToken.None);
        waiting.IsCompleted.Should().BeFalse();
        metrics.Publish(Status(1, 1), [], T0);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        metrics.WaitForChangeAsync(version, CancellationToken.None).IsCompleted.Should().BeTrue("a version already passed returns at once");
    }

    [Fact]
    public void The_latest_sample_of_each_prompt_is_kept()
    {
        var metrics = new JobMetrics(Info);
        metrics.AddSample(new SampleVideo(0, "circle", 20, "video/mp4", [1, 2]), T0);
        metrics.AddSample(new SampleVideo(0, "circle", 40, "video/mp4", [3, 4, 5]), T0.AddSeconds(1));
        metrics.AddSample(new SampleVideo(1, "square", 40, "video/mp4", [6]), T0.AddSeconds(1));

        metrics.Samples.Select(s => (s.Index, s.Step, s.Bytes)).Should().Equal((0, 40L, 3L), (1, 40L, 1L));
        metrics.SampleData(0)!.Value.Data.Should().Equal(3, 4, 5);
        metrics.SampleData(2).Should().BeNull();
    }

    internal static JobStatus Status(long round, int worldSize) => new(
        "job", JobStates.Running, round, worldSize, "running", T0,
        [], [.. Enumerable.Range(0, worldSize).Select(r => new RankStatus(r, $"node{r / 2}", r % 2, "running", "dit", 10, 100, 0.5, 0, 0.2, 0.1, 1 << 20))],
        [], 3, null, "/ckpt");

    private static RankReport Report(int rank, int pid, long steps, long samples) =>
        new(rank, pid, new RankMetrics { Stage = "dit", Step = steps, StepsTotal = steps, SamplesTotal = samples });

    private static RankReport Busy(int rank, double seconds) =>
        new(rank, rank + 1, new RankMetrics { Stage = "dit", StepsTotal = 10, StepSeconds = seconds + 0.05, CommunicationSeconds = 0.05, BusySeconds = seconds });
}
