using Sora.Cli.Bench;

namespace Sora.Cli.Tests.Bench;

/// <summary>
/// <c>sora bench goodput</c>'s split of a run's wall time, from coordinator event lines: each part is measured from the
/// right events, and a fault that lands while an earlier one is being recovered from is not counted twice.
/// </summary>
public class GoodputSplitTests
{
    private static readonly DateTime Day = DateTime.Today;

    private static DateTime At(int minute, double second) => Day.AddHours(10).AddMinutes(minute).AddSeconds(second);

    private static string Line(DateTime at, string text) => $"[{at:HH:mm:ss.fff}] {text}";

    private static readonly string[] FirstRound =
    [
        Line(At(0, 1), "round 1: 2 ranks on 2 node(s) (host1×1, host2×1), from scratch"),
        Line(At(0, 10), "round 1: training: dit step 1 at 10:00:10.000, 9.0 s after the round started (resumed from step 0)"),
    ];

    [Fact]
    public void One_fault_splits_into_detection_restart_reload_and_the_steps_trained_again()
    {
        string[] events =
        [
            .. FirstRound,
            Line(At(0, 51), "round 1 ending (worker-exit) at dit step 35: rank 1 on node 'host2' failed: signal 9 (SIGKILL)"),
            Line(At(0, 53), "round 2: 2 ranks on 2 node(s) (host1×1, host2×1), resuming from checkpoint step 30"),
            Line(At(0, 56), "round 2: training: dit step 31 at 10:00:56.000, 3.0 s after the round started (resumed from step 30)"),
        ];

        var time = GoodputBenchmark.Split(events, [At(0, 50)], started: At(0, 0), ended: At(2, 0), trainingSeconds: 60, steps: 100);

        time.Wall.Should().Be(120);
        time.Startup.Should().Be(10, "launch to the first step");
        time.Detection.Should().BeApproximately(1, 1e-9, "the fault to the round's end");
        time.Restart.Should().BeApproximately(2, 1e-9, "the round's end to the next round's start");
        time.Reload.Should().BeApproximately(3, 1e-9, "the round's start to its first step");
        time.Redone.Should().BeApproximately(5 * 0.6, 1e-9, "steps 31-35 again, at the uninterrupted run's 0.6 s a step");
        time.Other.Should().BeApproximately(120 - 60 - 10 - 1 - 2 - 3 - 3, 1e-9);
        time.Goodput.Should().Be(0.5);
    }

    [Fact]
    public void A_fault_during_an_earlier_faults_recovery_adds_no_second_twice()
    {
        // Fault 1 at 0:50 ends round 1; fault 2 at 0:54 kills round 2 while it loads (it never trains); round 3 trains at 1:00.
        string[] events =
        [
            .. FirstRound,
            Line(At(0, 51), "round 1 ending (worker-exit) at dit step 35: rank 1 on node 'host2' failed: signal 9 (SIGKILL)"),
            Line(At(0, 53), "round 2: 2 ranks on 2 node(s) (host1×1, host2×1), resuming from checkpoint step 30"),
            Line(At(0, 55), "round 2 ending (worker-exit) at dit step 30: rank 0 on node 'host1' failed: signal 9 (SIGKILL)"),
            Line(At(0, 57), "round 3: 2 ranks on 2 node(s) (host1×1, host2×1), resuming from checkpoint step 30"),
            Line(At(1, 0), "round 3: training: dit step 31 at 10:01:00.000, 3.0 s after the round started (resumed from step 30)"),
        ];

        var time = GoodputBenchmark.Split(events, [At(0, 50), At(0, 54)], started: At(0, 0), ended: At(2, 0), trainingSeconds: 60, steps: 100);

        (time.Detection + time.Restart + time.Reload).Should().BeApproximately(10, 1e-9, "from the first fault to the first step after both is 10 s, counted once");
        time.Other.Should().BeGreaterThanOrEqualTo(0, "the parts never add up to more than the wall time");
    }

    [Fact]
    public void A_fault_after_an_earlier_recovery_ended_counts_from_its_own_time()
    {
        string[] events =
        [
            .. FirstRound,
            Line(At(0, 51), "round 1 ending (worker-exit) at dit step 35: rank 1 on node 'host2' failed: signal 9 (SIGKILL)"),
            Line(At(0, 53), "round 2: 2 ranks on 2 node(s) (host1×1, host2×1), resuming from checkpoint step 30"),
            Line(At(0, 56), "round 2: training: dit step 31 at 10:00:56.000, 3.0 s after the round started (resumed from step 30)"),
            Line(At(1, 11), "job 'bench-goodput': last committed checkpoint is step 60 (round 2) in az://sora/bench"),
            Line(At(1, 14), "round 3: 2 ranks on 2 node(s) (host1×1, host2×1), resuming from checkpoint step 60"),
            Line(At(1, 18), "round 3: training: dit step 61 at 10:01:18.000, 4.0 s after the round started (resumed from step 60)"),
        ];

        var time = GoodputBenchmark.Split(events, [At(0, 50), At(1, 5)], started: At(0, 0), ended: At(2, 0), trainingSeconds: 60, steps: 100);

        time.Detection.Should().BeApproximately(1 + 6, 1e-9, "the second fault (the coordinator killed) is detected when a new coordinator reads the store");
        time.Restart.Should().BeApproximately(2 + 3, 1e-9);
        time.Reload.Should().BeApproximately(3 + 4, 1e-9);
    }
}
