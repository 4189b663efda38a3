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
    public void A_held_out_loss_lands_on_its_step_and_each_point_has_its_own_time()
    {
        var metrics = new JobMetrics(Info);
        metrics.Publish(Status(1, 1), [new RankReport(0, 1, new RankMetrics
        {
            Stage = "dit", Step = 22, StepsTotal = 22, HeldOutLoss = 0.4, HeldOutStep = 20,
            RecentSteps = [19, 20, 21, 22], RecentStepSeconds = [0.5, 0.5, 0.5, 0.5], RecentLosses = [1, 1, 1, 1],
        })], T0);

        var history = metrics.History();
        history.Single(h => h.HeldOutLoss is not null).Step.Should().Be(20);
        history.Select(h => h.Time).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        history[^1].Time.Should().Be(T0.ToUnixTimeMilliseconds() / 1000.0);
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
        checkpoint.Should().Be(new CheckpointView("dit", 50, 1600, 0.5, committedAt, "/ckpt"));
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
            new RoundView(1, 2, T0, T0.AddSeconds(10), "worker-exit: rank 1 on node 'a' failed: signal 9 (SIGKILL)") { State = RoundStates.Ended },
            new RoundView(2, 1, T0.AddSeconds(12), null, null));
    }

    [Fact]
    public void A_round_a_failure_ends_shows_as_ending_then_ended_before_the_next_round_forms()
    {
        var metrics = new JobMetrics(Info);
        metrics.Publish(Status(1, 2), [], T0);

        // The coordinator tears the round down (its workers are being stopped), then waits for the next rendezvous.
        metrics.Publish(Status(1, 2) with { State = JobStates.Restarting, Message = "round 1 ending: node 'host2' (10.0.0.3) is unreachable" }, [], T0.AddSeconds(6));
        var ending = metrics.Job!.Rounds.Single();
        var restart = new RestartRecord(1, T0.AddSeconds(6), "node 'host2' (10.0.0.3) is unreachable", "node-lost");
        metrics.Publish(Status(1, 0) with { State = JobStates.Rendezvous, Ranks = [], Restarts = [restart] }, [], T0.AddSeconds(9));
        var ended = metrics.Job!.Rounds.Single();

        ending.State.Should().Be(RoundStates.Ending);
        ending.EndedAt.Should().BeNull();
        ending.EndCause.Should().Contain("unreachable");
        ended.State.Should().Be(RoundStates.Ended, "a round no worker runs in is over, whether or not the next one has formed");
        ended.EndedAt.Should().Be(T0.AddSeconds(6));
        ended.EndCause.Should().Be("node-lost: node 'host2' (10.0.0.3) is unreachable");
    }

    [Fact]
    public void Each_stages_checkpoints_are_kept_apart_and_the_last_one_is_the_furthest_stages()
    {
        var metrics = new JobMetrics(Info);
        var vaeAt = T0.AddSeconds(1);
        metrics.Publish(Status(1, 1), [new RankReport(0, 1, new RankMetrics { Stage = "vae", CheckpointSaveStep = 50, CheckpointSaveStage = "vae", CheckpointSaveBytes = 100, CommittedStep = 50, CommittedStage = "vae", CommittedAtUnixSeconds = vaeAt.ToUnixTimeSeconds() })], T0.AddSeconds(2));
        var ditAt = T0.AddSeconds(5);
        metrics.Publish(Status(1, 1), [new RankReport(0, 1, new RankMetrics { Stage = "dit", CheckpointSaveStep = 50, CheckpointSaveStage = "dit", CheckpointSaveBytes = 900, CommittedStep = 50, CommittedStage = "dit", CommittedAtUnixSeconds = ditAt.ToUnixTimeSeconds() })], T0.AddSeconds(6));

        metrics.Checkpoints.Select(c => (c.Stage, c.Step, c.Bytes)).Should().Equal(("vae", 50L, 100L), ("dit", 50L, 900L));
        metrics.Job!.LastCheckpoint.Should().Be(new CommittedCheckpoint(50, 1, ditAt) { Stage = "dit" });
        var exposition = Exposition(metrics);
        exposition.Should().Contain("sora_checkpoint_last_committed_step{run=\"job-1\",stage=\"vae\"} 50").And.Contain("sora_checkpoint_last_committed_step{run=\"job-1\",stage=\"dit\"} 50");
    }

    [Fact]
    public void The_job_shows_the_stage_and_step_its_ranks_report_before_any_rank_metrics_arrive()
    {
        var metrics = new JobMetrics(Info);
        var status = Status(1, 2) with { Ranks = [new RankStatus(0, "a", 0, "running", "vae", 12, 600, 0.5, 0, 0.2, 0.1, 1), new RankStatus(1, "b", 0, "running", "vae", 11, 600, 0.5, 0, 0.2, 0.1, 1)] };

        metrics.Publish(status, [], T0);

        metrics.Job!.Stage.Should().Be("vae");
        metrics.Job.Step.Should().Be(11, "the job is where its slowest rank is");
        metrics.Job.TotalSteps.Should().Be(600, "the stage's own total, not the DiT's");
        Exposition(metrics).Should().Contain("sora_train_total_steps{run=\"job-1\",stage=\"vae\"} 600");
    }

    private static string Exposition(JobMetrics metrics)
    {
        using var stream = new MemoryStream();
        metrics.Exporter.WriteAsync(stream).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
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
