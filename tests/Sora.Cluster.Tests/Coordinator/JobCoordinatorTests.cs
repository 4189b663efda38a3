using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Tests.Harness;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>
/// The coordinator (its supervisor and incarnations) with probes for agents that register and seal as agents do, an
/// in-memory checkpoint ledger and Akka.TestKit's <see cref="TestScheduler"/> as its clock: rendezvous and rank
/// assignment, the round lifecycle, the restart budget, the watchdog, elastic decisions, the fence, a coordinator that
/// fails, messages that do not authenticate, and the store's round marker.
/// </summary>
public sealed class JobCoordinatorTests() : Akka.TestKit.Xunit2.TestKit(Config), IDisposable
{
    private const string Token = "job-token";
    private static readonly Config Config = ConfigurationFactory.ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """);

    private readonly JobKey _key = JobKey.FromToken(Token);
    private readonly MemoryLedger _ledger = new();
    private readonly JobOutcome _outcome = new();
    private readonly List<string> _events = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-coordinator-").FullName;
    private bool _failEvents;
    private CoordinatorClient? _client;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Ranks_follow_the_order_nodes_joined_and_a_round_starts_once_the_maximum_is_in()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 2, MaxNodes: 2));
        var a = Join(coordinator, "a", 2);
        a.ExpectNothing();
        var b = Join(coordinator, "b", 2);

        var startA = a.Expect<StartRound>();
        var startB = b.Expect<StartRound>();
        startA.Round.Should().Be(1);
        startA.WorldSize.Should().Be(4);
        startA.Workers.Select(w => (w.Rank, w.LocalRank)).Should().Equal((0, 0), (1, 1));
        startB.Workers.Select(w => (w.Rank, w.LocalRank)).Should().Equal((2, 0), (3, 1));
        startA.WorkerArguments.Should().NotContain("--resume", "there is no checkpoint yet");
        startA.Marker.Should().BeNull("a blob store has no round marker");
        _ledger.Round.Should().Be(1, "the round is fenced in the store before any worker starts");
    }

    [Fact]
    public void An_agent_with_the_wrong_token_or_version_is_refused_and_never_gets_ranks()
    {
        var coordinator = Start(new FaultPolicy());
        new AgentProbe(CreateTestProbe(), JobKey.FromToken("guess"), "x").RegisterRefused(coordinator, 1).Reason.Should().Contain("wrong job token");
        Agent("y").RegisterRefused(coordinator, 1, version: "0.9").Reason.Should().Contain("version mismatch");
        Status().Nodes.Should().BeEmpty();
        Events().Should().NotContain(e => e.Contains(Token, StringComparison.Ordinal), "the token is never reported");
    }

    [Fact]
    public void A_failed_worker_ends_the_round_and_the_next_round_resumes_from_the_committed_checkpoint()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 1));
        var a = Join(coordinator, "a", 2);
        a.Expect<StartRound>();
        _ledger.Commit(step: 40, round: 1);

        a.Send(new WorkerExited("a", 1, 1, 137, false, "boom", "rank-1.log"));
        var stop = a.Expect<StopRound>();
        stop.Round.Should().Be(1);
        stop.Checkpoint.Should().BeFalse();
        stop.Reason.Should().Contain("rank 1 on node 'a' failed: signal 9 (SIGKILL)");
        a.Send(new WorkerExited("a", 1, 0, 143, true, "", "rank-0.log"));

        var next = a.Expect<StartRound>();
        next.Round.Should().Be(2);
        next.WorkerArguments.Should().ContainInOrder("--resume", "latest");
        Status().Restarts.Should().ContainSingle().Which.Kind.Should().Be("worker-exit");
    }

    [Fact]
    public void A_spent_budget_ends_the_job_with_the_rank_and_cause()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 0));
        var a = Join(coordinator, "a", 1);
        a.Expect<StartRound>();
        a.Send(new WorkerExited("a", 1, 0, 1, false, "Traceback: out of memory", "rank-0.log"));
        a.Expect<StopRound>();
        var ended = a.Expect<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("restart budget (0) is spent").And.Contain("rank 0 on node 'a' failed: exit code 1").And.Contain("out of memory");
        _outcome.Task.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void A_rank_silent_past_the_hang_timeout_ends_the_round()
    {
        var coordinator = Start(new FaultPolicy(HangTimeout: TimeSpan.FromSeconds(10)));
        var a = Join(coordinator, "a", 2);
        a.Expect<StartRound>();
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 0), Report(1, "stopped", 0)]));
        Clock.Advance(TimeSpan.FromSeconds(8));

        // Rank 0 waits on the frozen rank 1 in a collective: silent for longer, but not the one to blame.
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 8), Report(1, "stopped", 7.5)]));
        Clock.Advance(TimeSpan.FromSeconds(1));
        a.ExpectNothing();

        Clock.Advance(TimeSpan.FromSeconds(3));
        var stop = a.Expect<StopRound>();
        stop.Reason.Should().StartWith("rank 1 ");
        stop.Reason.Should().Contain("rank 1 on node 'a' is hung").And.Contain("SIGSTOP");
    }

    [Fact]
    public void A_node_that_joins_a_running_round_below_the_maximum_ends_it_at_a_checkpoint_boundary_without_spending_the_budget()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)));
        var a = Join(coordinator, "a", 1);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.Expect<StartRound>().WorldSize.Should().Be(1);
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 0)]));
        _ledger.Commit(step: 8, round: 1);

        var b = Join(coordinator, "b", 1);
        var stop = a.Expect<StopRound>();
        stop.Checkpoint.Should().BeTrue("the workers checkpoint before the group re-forms");
        a.Send(new WorkerExited("a", 1, 0, 0, true, "", ""));
        a.Expect<StartRound>().WorldSize.Should().Be(2);
        b.Expect<StartRound>().Workers.Should().ContainSingle().Which.Rank.Should().Be(1);
        Status().Restarts.Should().BeEmpty();
    }

    [Fact]
    public void A_node_that_joins_waits_for_a_checkpoint_committed_in_the_round_and_then_ends_it_at_that_boundary()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)));
        var a = Join(coordinator, "a", 1);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.Expect<StartRound>();
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 0, "vae", 30)]));

        Join(coordinator, "b", 1);
        Clock.Advance(TimeSpan.FromSeconds(3));
        a.ExpectNothing(); // nothing committed in this round yet: a stop now would end a round that made no progress
        Status().Message.Should().Contain("waiting for the round's first vae checkpoint");

        _ledger.Commit(step: 30, round: 1, stage: "vae");
        Clock.Advance(TimeSpan.FromSeconds(3));
        a.Expect<StopRound>().Checkpoint.Should().BeTrue("the VAE stage checkpoints too: the graceful stop keeps its progress");
    }

    [Fact]
    public void A_job_without_checkpoints_is_never_cut_short_by_a_join()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)), checkpointedStages: []);
        var a = Join(coordinator, "a", 1);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.Expect<StartRound>();
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 0, "dit", 30)]));
        _ledger.Commit(step: 30, round: 1);

        Join(coordinator, "b", 1);
        Clock.Advance(TimeSpan.FromSeconds(3));
        a.ExpectNothing(); // a stop would lose everything since the round started
        Status().Message.Should().Contain("the dit stage has no checkpoints");
    }

    [Fact]
    public void A_join_that_would_not_make_the_round_larger_does_not_end_it()
    {
        // a's 2 ranks divide the batch of 8; with b's 3 there would be 5, which does not: the next round would be a alone again.
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)));
        var a = Join(coordinator, "a", 2);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.Expect<StartRound>();
        a.Send(new AgentHeartbeat("a", 1, [Report(0, "running", 0), Report(1, "running", 0)]));
        _ledger.Commit(step: 8, round: 1);

        Join(coordinator, "b", 3);
        Clock.Advance(TimeSpan.FromSeconds(3));
        a.ExpectNothing(); // a round of the same size would redo the steps since the checkpoint for nothing
    }

    [Fact]
    public void A_node_lost_again_and_again_is_held_back_before_it_may_end_a_round_once_more()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 5, MinNodes: 1, MaxNodes: 2, RendezvousWait: TimeSpan.FromSeconds(5)));
        var a = Join(coordinator, "a", 1);
        Clock.Advance(TimeSpan.FromSeconds(6));
        var round = a.Expect<StartRound>().Round;
        for (var loss = 1; loss <= 2; loss++)
        {
            // Each time a round has made progress, b (a crash-looping pod) joins, the group re-forms with it, and it dies at once.
            a.Send(new AgentHeartbeat("a", round, [Report(0, "running", 0)]));
            _ledger.Commit(step: 8 * loss, round: round);
            var b = Join(coordinator, "b", 1);
            a.Expect<StopRound>().Checkpoint.Should().BeTrue();
            a.Send(new WorkerExited("a", round, 0, 0, true, "", ""));
            round = a.Expect<StartRound>().Round;
            b.Expect<StartRound>();

            Sys.Stop(b.Ref);
            a.Expect<StopRound>().Checkpoint.Should().BeFalse();
            a.Send(new WorkerExited("a", round, 0, 143, true, "", ""));
            var alone = ExpectWhileTimePasses<StartRound>(a); // after the rendezvous wait

            alone.WorldSize.Should().Be(1);
            round = alone.Round;
        }

        a.Send(new AgentHeartbeat("a", round, [Report(0, "running", 0)]));
        _ledger.Commit(step: 24, round: round);
        Join(coordinator, "b", 1);
        Clock.Advance(TimeSpan.FromSeconds(3));
        a.ExpectNothing(); // lost twice within minutes: held back instead of ending the round again

        Clock.Advance(AgentRegistry.RejoinDelay);
        a.Expect<StopRound>().Checkpoint.Should().BeTrue("once its hold-back passed, it joins at the next checkpoint boundary");
        Status().Restarts.Should().HaveCount(2, "each loss of b ended a round it was in; its joins cost nothing");
    }

    [Fact]
    public void A_transient_error_while_fencing_is_retried_and_the_round_starts()
    {
        _ledger.TransientFenceErrors = 2;
        var coordinator = Start(new FaultPolicy());
        var a = Join(coordinator, "a", 1);
        AwaitCondition(() =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            return _ledger.Round > 0;
        }, TimeSpan.FromSeconds(20));

        a.Expect<StartRound>().Round.Should().Be(3, "each attempt fences a new round number: one that may have reached the store is never reused");
        Status().Restarts.Should().BeEmpty();
        Events().Should().Contain(e => e.Contains("fencing the checkpoint store memory failed (the disk is on fire); trying again", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fence_error_that_persists_fails_the_job_with_the_storage_error_after_retrying()
    {
        _ledger.TransientFenceErrors = int.MaxValue;
        var coordinator = Start(new FaultPolicy());
        var a = Join(coordinator, "a", 1);
        AwaitCondition(() =>
        {
            Clock.Advance(TimeSpan.FromSeconds(10));
            return _outcome.Task.IsCompleted;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

        var ended = a.Fish<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("cannot fence").And.Contain($"after {RoundPolicy.FenceAttempts} attempts").And.Contain("the disk is on fire");
        _ledger.FenceAttempts.Should().Be(RoundPolicy.FenceAttempts);
    }

    [Fact]
    public void A_world_size_that_does_not_divide_the_batch_is_never_formed()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 1, MaxNodes: 3, RendezvousWait: TimeSpan.FromSeconds(5)), batch: 8);
        var a = Join(coordinator, "a", 2);
        var b = Join(coordinator, "b", 2);
        var c = Join(coordinator, "c", 2);
        Clock.Advance(TimeSpan.FromSeconds(6));
        a.Expect<StartRound>().WorldSize.Should().Be(4, "6 ranks do not divide a batch of 8; the two oldest nodes do");
        c.ExpectNothing();
        b.Expect<StartRound>();
    }

    [Fact]
    public void A_store_fenced_by_a_newer_coordinator_fails_the_job_instead_of_training_beside_it()
    {
        _ledger.FailFence = true;
        var coordinator = Start(new FaultPolicy());
        var a = Join(coordinator, "a", 1);
        var ended = a.Expect<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("cannot fence").And.Contain("another coordinator reached it first");
        _ledger.FenceAttempts.Should().Be(1, "a newer round in the store is never retried");
    }

    [Fact]
    public void A_restarted_coordinator_numbers_its_rounds_after_the_stored_one()
    {
        _ledger.Commit(step: 12, round: 7);
        var coordinator = Start(new FaultPolicy());
        var a = Join(coordinator, "a", 1);
        var start = a.Expect<StartRound>();
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
        Agent("a").RegisterRefused(coordinator, 1).Reason.Should().Contain("the job has ended");
        _ledger.Round.Should().Be(3, "no round was fenced");
    }

    [Fact]
    public void A_final_checkpoint_whose_run_outputs_were_never_published_is_resumed_to_publish_them()
    {
        // The last round was killed between its final checkpoint's commit and run/summary.json.
        _ledger.Commit(step: 100, round: 3);
        _ledger.RunPublished = false;
        var coordinator = Start(new FaultPolicy());

        var start = Join(coordinator, "a", 1).Expect<StartRound>();

        start.WorkerArguments.Should().ContainInOrder("--resume", "latest");
        _outcome.Task.IsCompleted.Should().BeFalse("a job without its outputs in the store is not complete");
    }

    [Fact]
    public void A_launch_that_asked_for_a_step_resumes_its_first_round_from_it_and_later_rounds_from_the_last_commit()
    {
        _ledger.Commit(step: 20, round: 1);
        var coordinator = Start(new FaultPolicy(MaxRestarts: 1), resume: "10");
        var a = Join(coordinator, "a", 1);
        var first = a.Expect<StartRound>();
        first.WorkerArguments.Should().ContainInOrder("--resume", "10").And.NotContain("latest");
        Events().Should().Contain(e => e.Contains("round 2: 1 ranks", StringComparison.Ordinal) && e.EndsWith("resuming from checkpoint step 10 (as asked)", StringComparison.Ordinal));

        _ledger.Commit(step: 15, round: 2);
        a.Send(new WorkerExited("a", 2, 0, 1, false, "boom", "rank-0.log"));
        a.Expect<StopRound>();
        a.Expect<StartRound>().WorkerArguments.Should().ContainInOrder("--resume", "latest");
    }

    [Fact]
    public void A_launch_that_asked_for_no_resume_starts_from_scratch_beside_a_committed_checkpoint()
    {
        _ledger.Commit(step: 100, round: 3);
        var coordinator = Start(new FaultPolicy(), resume: JobSpec.StartFresh);
        var a = Join(coordinator, "a", 1);
        var start = a.Expect<StartRound>();
        start.Round.Should().Be(4);
        start.WorkerArguments.Should().NotContain("--resume");
        _outcome.Task.IsCompleted.Should().BeFalse("a launch that asked is never short-cut as already complete");
    }

    [Fact]
    public void A_launch_that_asked_for_latest_runs_even_when_the_last_checkpoint_is_the_final_step()
    {
        _ledger.Commit(step: 100, round: 3);
        var coordinator = Start(new FaultPolicy(), resume: "latest");
        var a = Join(coordinator, "a", 1);
        a.Expect<StartRound>().WorkerArguments.Should().ContainInOrder("--resume", "latest");
        _outcome.Task.IsCompleted.Should().BeFalse("its workers load that checkpoint and write the final weights");
    }

    [Fact]
    public void A_coordinator_that_throws_starts_again_from_the_store_and_its_agents_register_again()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 3));
        var a = Join(coordinator, "a", 1);
        a.Probe.Watch(a.Coordinator!);
        a.Expect<StartRound>().Round.Should().Be(1);
        _ledger.Commit(step: 8, round: 1);

        // The event sink fails (stdout closed, say) while the coordinator handles a worker's exit.
        _failEvents = true;
        a.Send(new WorkerExited("a", 1, 0, 137, false, "", "rank-0.log"));

        a.Probe.FishForMessage<Terminated>(t => t.ActorRef.Equals(a.Coordinator), TimeSpan.FromSeconds(10));
        AwaitCondition(() =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            return Events().Any(e => e.Contains("last committed checkpoint is step 8 (round 1)", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20));

        // As a real agent does when its coordinator terminates: register again.
        a.Join(coordinator, 1);
        AwaitCondition(() => Status().Nodes.Any(n => n.Node == "a"), TimeSpan.FromSeconds(10));
        var start = a.Expect<StartRound>();
        start.Round.Should().Be(2, "the new incarnation numbers its rounds after the one the store was fenced at");
        start.WorkerArguments.Should().ContainInOrder("--resume", "latest");
        Events().Should().Contain(e => e.Contains("the coordinator failed (IOException: the event log cannot be written)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_live_agent_with_a_taken_node_name_is_refused_for_good_naming_the_fix()
    {
        var coordinator = Start(new FaultPolicy(MinNodes: 2, MaxNodes: 2));
        Join(coordinator, "a", 1);
        var refused = Agent("a").RegisterRefused(coordinator, 1);
        refused.Retryable.Should().BeFalse("a live agent holds the name: retrying would wait forever");
        refused.Reason.Should().Contain("node name 'a' is already taken").And.Contain("--node");
    }

    [Fact]
    public void A_worker_that_exits_with_a_configuration_error_ends_the_job_at_once_without_spending_the_budget()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 3));
        var a = Join(coordinator, "a", 2);
        a.Expect<StartRound>();
        a.Send(new WorkerExited("a", 1, 1, 78, false, "error: no Parquet shard or directory at '/data/clips'", "rank-1.log"));
        a.Expect<StopRound>();
        a.Send(new WorkerExited("a", 1, 0, 143, true, "", "rank-0.log"));

        var ended = a.Expect<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("configuration or data error").And.Contain("no Parquet shard or directory at '/data/clips'").And.Contain("rank 1 on node 'a'");
        var status = Status();
        status.Restarts.Should().BeEmpty("an error that fails the same way again is not retried");
        status.RestartsLeft.Should().Be(3);
    }

    [Fact]
    public void A_configuration_error_that_arrives_after_another_ranks_failure_still_ends_the_job()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 3));
        var a = Join(coordinator, "a", 2);
        a.Expect<StartRound>();

        // Rank 0 fails first (its collective lost rank 1), then rank 1 reports why.
        a.Send(new WorkerExited("a", 1, 0, 1, false, "collective failed", "rank-0.log"));
        a.Expect<StopRound>();
        a.Send(new WorkerExited("a", 1, 1, 78, false, "", "rank-1.log") { Error = "data.path: the shard x.parquet is not a Parquet file" });

        a.Expect<JobEnded>().Message.Should().Contain("x.parquet is not a Parquet file");
        Status().Restarts.Should().BeEmpty();
    }

    [Fact]
    public void Messages_without_the_jobs_credentials_or_replayed_neither_stop_the_job_nor_report_a_worker_exited()
    {
        var coordinator = Start(new FaultPolicy(MaxRestarts: 0));
        var a = Join(coordinator, "a", 1);
        var start = a.Expect<StartRound>();
        var heartbeat = a.Channel!.Seal(new AgentHeartbeat("a", start.Round, [Report(0, "running", 0)]));
        a.Coordinator!.Tell(heartbeat, a.Ref);
        var intruder = CreateTestProbe();
        var guess = JobKey.FromToken("not-the-token");

        // Unsealed, as a cluster member without the token would send them.
        coordinator.Tell(new StopJob("intruder"), intruder.Ref);
        coordinator.Tell(new WorkerExited("a", start.Round, 0, 1, false, "", ""), intruder.Ref);

        // Sealed with keys that are not the job's: a command, and a message claiming a's session (its id is not secret).
        coordinator.Tell(guess.Commands(SessionSide.Agent).Seal(new StopJob("intruder")), intruder.Ref);
        coordinator.Tell(guess.Session(SessionSide.Agent, "a", JobKey.NewNonce(), a.Channel.Session).Seal(new WorkerExited("a", start.Round, 0, 1, false, "", "")), intruder.Ref);

        // Replayed: a's registration (answered by nothing), and a's own heartbeat, already taken.
        coordinator.Tell(a.LastRegistration!, intruder.Ref);
        coordinator.Tell(heartbeat, intruder.Ref);

        intruder.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        a.ExpectNothing();
        var status = Status();
        status.State.Should().Be(JobStates.Running);
        status.Ranks.Should().ContainSingle().Which.State.Should().Be("running");
        _outcome.Task.IsCompleted.Should().BeFalse();
        Events().Should().Contain(e => e.Contains("dropped a message that did not authenticate", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_store_gets_a_round_marker_and_a_node_that_cannot_see_it_fails_the_job_at_once()
    {
        _ledger.StoreDirectory = _directory;
        var coordinator = Start(new FaultPolicy(MaxRestarts: 3));
        var a = Join(coordinator, "a", 1);
        var start = a.Expect<StartRound>();
        start.Marker.Should().NotBeNull();
        start.Marker!.Path.Should().Be(Path.Combine(_directory, "control", "round-1.nonce"));
        File.ReadAllText(start.Marker.Path).Should().Be(start.Marker.Nonce);

        a.Send(new RoundRefused("a", 1, $"node 'a' does not share the job's store with the coordinator: its round marker {start.Marker.Path} is missing on this node"));
        var ended = a.Fish<JobEnded>();
        ended.Success.Should().BeFalse();
        ended.Message.Should().Contain("node 'a' started no worker of round 1").And.Contain(start.Marker.Path).And.Contain("not retried");
        Status().Restarts.Should().BeEmpty();
    }

    private IActorRef Start(FaultPolicy fault, int batch = 8, string? resume = null, string[]? checkpointedStages = null)
    {
        var spec = new JobSpec("test", "name: test", [("train.batch_size", batch)], 100, fault, ["--parallel", "fsdp"], _key, "1.0", "10.0.0.1", 29401) { Resume = resume };
        spec = checkpointedStages is null ? spec : spec with { CheckpointedStages = new HashSet<string>(checkpointedStages, StringComparer.Ordinal) };
        var coordinator = Sys.ActorOf(JobCoordinator.Props(spec, _ledger, _outcome, new ListEvents(_events, () => _failEvents && !(_failEvents = false))));
        _client = new CoordinatorClient(coordinator, _key);
        return coordinator;
    }

    private AgentProbe Agent(string node) => new(CreateTestProbe(), _key, node);

    /// <summary>Moves the clock a second at a time until <paramref name="agent"/> gets a message, which must be a sealed <typeparamref name="T"/>.</summary>
    private T ExpectWhileTimePasses<T>(AgentProbe agent)
    {
        AwaitCondition(() =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            return agent.Probe.HasMessages;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        return agent.Expect<T>();
    }

    /// <summary>An agent that joined: once the coordinator lists it, its first sealed message was taken (so the clock may move).</summary>
    private AgentProbe Join(IActorRef coordinator, string node, int processes)
    {
        var agent = Agent(node).Join(coordinator, processes);
        AwaitCondition(() => Status().Nodes.Any(n => n.Node == node), TimeSpan.FromSeconds(10));
        return agent;
    }

    private JobStatus Status() => _client!.StatusAsync(TimeSpan.FromSeconds(3)).GetAwaiter().GetResult();

    private List<string> Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    private static WorkerReport Report(int rank, string state, double silent, string stage = "dit", long step = 5) => new(rank, 100 + rank, state, stage, step, 100, silent, 0.5, 0.2, 1 << 20);

    private sealed class ListEvents(List<string> events, Func<bool> fail) : IJobEvents
    {
        public void Report(string message)
        {
            if (fail())
            {
                throw new IOException("the event log cannot be written");
            }

            lock (events)
            {
                events.Add(message);
            }
        }
    }
}
