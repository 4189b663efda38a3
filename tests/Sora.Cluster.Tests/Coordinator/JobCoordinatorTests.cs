using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>
/// The coordinator actor with probes for agents, an in-memory checkpoint ledger and Akka.TestKit's
/// <see cref="TestScheduler"/> as its clock: rendezvous and rank assignment, the round lifecycle, the restart
/// budget, the watchdog, elastic decisions and the fence.
/// </summary>
public sealed class JobCoordinatorTests() : Akka.TestKit.Xunit2.TestKit(Config)
{
    private const string Token = "job-token";
    private static readonly Config Config = ConfigurationFactory.ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """);

    private readonly MemoryLedger _ledger = new();
    private readonly JobOutcome _outcome = new();
    private readonly List<string> _events = [];

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void Ranks_follow_the_order_nodes_joined_and_a_round_starts_once_the_maximum_is_in()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 2, MaxNodes: 2));
        var a = Register(coordinator, "a", 2);
        a.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var b = Register(coordinator, "b", 2);

        var startA = a.ExpectMsg<StartRound>();
        var startB = b.ExpectMsg<StartRound>();
        startA.Round.Should().Be(1);
        startA.WorldSize.Should().Be(4);
        startA.Workers.Select(w => (w.Rank, w.LocalRank)).Should().Equal((0, 0), (1, 1));
        startB.Workers.Select(w => (w.Rank, w.LocalRank)).Should().Equal((2, 0), (3, 1));
        startA.WorkerArguments.Should().NotContain("--resume", "there is no checkpoint yet");
        _ledger.Round.Should().Be(1, "the round is fenced in the store before any worker starts");
    }

    [Fact]
    public void An_agent_with_the_wrong_token_or_version_is_refused_and_never_gets_ranks()
    {
        var coordinator = Start(new FaultPolicy());
        var wrongToken = CreateTestProbe();
        coordinator.Tell(new RegisterAgent("x", "10.0.0.9", 1, 1, JobCoordinator.TokenDigest("guess"), "1.0", wrongToken.Ref), wrongToken.Ref);
        wrongToken.ExpectMsg<AgentRejected>().Reason.Should().Contain("wrong job token");
        var wrongVersion = CreateTestProbe();
        coordinator.Tell(new RegisterAgent("y", "10.0.0.8", 1, 1, JobCoordinator.TokenDigest(Token), "0.9", wrongVersion.Ref), wrongVersion.Ref);
        wrongVersion.ExpectMsg<AgentRejected>().Reason.Should().Contain("version mismatch");
        Status(coordinator).Nodes.Should().BeEmpty();
        _events.Should().NotContain(e => e.Contains(Token, StringComparison.Ordinal), "the token is never reported");
    }

    [Fact]
    public void A_failed_worker_ends_the_round_and_the_next_round_resumes_from_the_committed_checkpoint()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 1));
        var a = Register(coordinator, "a", 2);
        a.ExpectMsg<StartRound>();
        _ledger.Commit(step: 40, round: 1);

        coordinator.Tell(new WorkerExited("a", 1, 1, 137, false, "boom", "rank-1.log"), a.Ref);
        var stop = a.ExpectMsg<StopRound>();
        stop.Round.Should().Be(1);
        stop.Checkpoint.Should().BeFalse();
        stop.Reason.Should().Contain("rank 1 on node 'a' failed: signal 9 (SIGKILL)");
        coordinator.Tell(new WorkerExited("a", 1, 0, 143, true, "", "rank-0.log"), a.Ref);

        var next = a.ExpectMsg<StartRound>();
        next.Round.Should().Be(2);
        next.WorkerArguments.Should().ContainInOrder("--resume", "latest");
        Status(coordinator).Restarts.Should().ContainSingle().Which.Kind.Should().Be("worker-exit");
    }

    [Fact]
    public void A_spent_budget_ends_the_job_with_the_rank_and_cause()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 0));
        var a = Register(coordinator, "a", 1);
        a.ExpectMsg<StartRound>();
        coordinator.Tell(new WorkerExited("a", 1, 0, 1, false, "Traceback: out of memory", "rank-0.log"), a.Ref);
        a.ExpectMsg<StopRound>();
        var ended = a.ExpectMsg<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("restart budget (0) is spent").And.Contain("rank 0 on node 'a' failed: exit code 1").And.Contain("out of memory");
        _outcome.Task.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void A_rank_silent_past_the_hang_timeout_ends_the_round()
    {
        var coordinator = Start(new FaultPolicy(HangTimeout: TimeSpan.FromSeconds(10)));
        var a = Register(coordinator, "a", 2);
        a.ExpectMsg<StartRound>();
        coordinator.Tell(new AgentHeartbeat("a", 1, [Report(0, "running", 0), Report(1, "stopped", 0)]), a.Ref);
        Clock.Advance(TimeSpan.FromSeconds(8));

        // Rank 0 waits on the frozen rank 1 in a collective: silent for longer, but not the one to blame.
        coordinator.Tell(new AgentHeartbeat("a", 1, [Report(0, "running", 8), Report(1, "stopped", 7.5)]), a.Ref);
        Clock.Advance(TimeSpan.FromSeconds(1));
        a.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Clock.Advance(TimeSpan.FromSeconds(3));
        var stop = a.ExpectMsg<StopRound>();
        stop.Reason.Should().StartWith("rank 1 ");
        stop.Reason.Should().Contain("rank 1 on node 'a' is hung").And.Contain("SIGSTOP");
    }

    [Fact]
    public void A_node_that_joins_a_running_round_below_the_maximum_ends_it_at_a_checkpoint_boundary_without_spending_the_budget()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)));
        var a = Register(coordinator, "a", 1);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.ExpectMsg<StartRound>().WorldSize.Should().Be(1);

        var b = Register(coordinator, "b", 1);
        var stop = a.ExpectMsg<StopRound>();
        stop.Checkpoint.Should().BeTrue("the workers checkpoint before the group re-forms");
        coordinator.Tell(new WorkerExited("a", 1, 0, 0, true, "", ""), a.Ref);
        a.ExpectMsg<StartRound>().WorldSize.Should().Be(2);
        b.ExpectMsg<StartRound>().Workers.Should().ContainSingle().Which.Rank.Should().Be(1);
        Status(coordinator).Restarts.Should().BeEmpty();
    }

    [Fact]
    public void A_world_size_that_does_not_divide_the_batch_is_never_formed()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 3, RendezvousWait: TimeSpan.FromSeconds(5)), batch: 8);
        var a = Register(coordinator, "a", 2);
        var b = Register(coordinator, "b", 2);
        var c = Register(coordinator, "c", 2);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.ExpectMsg<StartRound>().WorldSize.Should().Be(4, "6 ranks do not divide a batch of 8; the two oldest nodes do");
        c.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        b.ExpectMsg<StartRound>();
    }

    [Fact]
    public void A_store_fenced_by_a_newer_coordinator_fails_the_job_instead_of_training_beside_it()
    {
        _ledger.FailFence = true;
        var coordinator = Start(new FaultPolicy());
        var a = Register(coordinator, "a", 1);
        var ended = a.ExpectMsg<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("cannot fence");
    }

    [Fact]
    public void A_restarted_coordinator_numbers_its_rounds_after_the_stored_one()
    {
        _ledger.Commit(step: 12, round: 7);
        var coordinator = Start(new FaultPolicy());
        var a = Register(coordinator, "a", 1);
        var start = a.ExpectMsg<StartRound>();
        start.Round.Should().Be(8);
        start.WorkerArguments.Should().ContainInOrder("--resume", "latest");
    }

    [Fact]
    public async Task A_job_whose_last_checkpoint_is_its_final_step_ends_without_starting_workers()
    {
        _ledger.Commit(step: 100, round: 3);
        var coordinator = Start(new FaultPolicy());
        var (success, message) = await _outcome.Task.WaitAsync(TimeSpan.FromSeconds(5));
        success.Should().BeTrue();
        message.Should().Contain("already complete").And.Contain("step 100 of 100");
        var a = CreateTestProbe();
        coordinator.Tell(new RegisterAgent("a", "10.0.0.2", 1, 1, JobCoordinator.TokenDigest(Token), "1.0", a.Ref), a.Ref);
        a.ExpectMsg<AgentRejected>().Reason.Should().Contain("the job has ended");
        _ledger.Round.Should().Be(3, "no round was fenced");
    }

    [Fact]
    public void A_launch_that_asked_for_a_step_resumes_its_first_round_from_it_and_later_rounds_from_the_last_commit()
    {
        _ledger.Commit(step: 20, round: 1);
        var coordinator = Start(new FaultPolicy(MaxRestarts: 1), resume: "10");
        var a = Register(coordinator, "a", 1);
        var first = a.ExpectMsg<StartRound>();
        first.WorkerArguments.Should().ContainInOrder("--resume", "10").And.NotContain("latest");
        _events.Should().Contain(e => e.Contains("round 2: 1 ranks", StringComparison.Ordinal) && e.EndsWith("resuming from checkpoint step 10 (as asked)", StringComparison.Ordinal));

        _ledger.Commit(step: 15, round: 2);
        coordinator.Tell(new WorkerExited("a", 2, 0, 1, false, "boom", "rank-0.log"), a.Ref);
        a.ExpectMsg<StopRound>();
        a.ExpectMsg<StartRound>().WorkerArguments.Should().ContainInOrder("--resume", "latest");
    }

    [Fact]
    public void A_launch_that_asked_for_no_resume_starts_from_scratch_beside_a_committed_checkpoint()
    {
        _ledger.Commit(step: 100, round: 3);
        var coordinator = Start(new FaultPolicy(), resume: JobSpec.StartFresh);
        var a = Register(coordinator, "a", 1);
        var start = a.ExpectMsg<StartRound>();
        start.Round.Should().Be(4);
        start.WorkerArguments.Should().NotContain("--resume");
        _outcome.Task.IsCompleted.Should().BeFalse("a launch that asked is never short-cut as already complete");
    }

    [Fact]
    public void A_launch_that_asked_for_latest_runs_even_when_the_last_checkpoint_is_the_final_step()
    {
        _ledger.Commit(step: 100, round: 3);
        var coordinator = Start(new FaultPolicy(), resume: "latest");
        var a = Register(coordinator, "a", 1);
        a.ExpectMsg<StartRound>().WorkerArguments.Should().ContainInOrder("--resume", "latest");
        _outcome.Task.IsCompleted.Should().BeFalse("its workers load that checkpoint and write the final weights");
    }

    private IActorRef Start(FaultPolicy fault, int batch = 8, string? resume = null)
    {
        var spec = new JobSpec("test", "name: test", [("train.batch_size", batch)], 100, fault, ["--parallel", "fsdp"], JobCoordinator.TokenDigest(Token), "1.0", "10.0.0.1", 29401) { Resume = resume };
        var events = new ListEvents(_events);
        return Sys.ActorOf(JobCoordinator.Props(spec, _ledger, _outcome, events));
    }

    private TestProbe Register(IActorRef coordinator, string node, int processes)
    {
        var probe = CreateTestProbe();
        coordinator.Tell(new RegisterAgent(node, $"10.0.0.{node[0] - 'a' + 2}", processes, processes, JobCoordinator.TokenDigest(Token), "1.0", probe.Ref), probe.Ref);
        probe.ExpectMsg<AgentAccepted>();
        return probe;
    }

    private static JobStatus Status(IActorRef coordinator) => coordinator.Ask<JobStatus>(GetStatus.Instance, TimeSpan.FromSeconds(3)).GetAwaiter().GetResult();

    private static WorkerReport Report(int rank, string state, double silent) => new(rank, 100 + rank, state, "dit", 5, 100, silent, 0.5, 0.2, 1 << 20);

    private sealed class ListEvents(List<string> events) : IJobEvents
    {
        public void Report(string message)
        {
            lock (events)
            {
                events.Add(message);
            }
        }
    }

    /// <summary>An in-memory <c>latest</c> pointer with the fence's rule: a round must be newer than the stored one.</summary>
    private sealed class MemoryLedger : ICheckpointLedger
    {
        private long _step;

        public long Round { get; private set; }

        public bool FailFence { get; set; }

        public string Location => "memory";

        public void Commit(long step, long round)
        {
            _step = step;
            Round = round;
        }

        public Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<CommittedCheckpoint?>(Round == 0 && _step == 0 ? null : new CommittedCheckpoint(_step, Round, null));

        public Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default)
        {
            if (FailFence || round <= Round)
            {
                return Task.FromException<CommittedCheckpoint>(new InvalidOperationException($"round {round} refused: the store is at round {Math.Max(Round, round)}"));
            }

            Round = round;
            return Task.FromResult(new CommittedCheckpoint(_step, round, null));
        }
    }
}
