using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The job's lifecycle, one actor with one behaviour per state, each answering only its messages:
/// <c>Loading</c> (reads the store) → <c>Rendezvous</c> (which agents take part) → <c>Fencing</c> (moves the store to the
/// new round) → <c>Running</c> → <c>Ending</c> (every worker stopped) → <c>Rendezvous</c> again (a restart, or a larger
/// group) … → <c>Finished</c>. Every deadline is its own named timer. The decisions live outside the actor, in classes
/// tested on their own: who is in (<see cref="AgentRegistry"/>), which nodes form a round (<see cref="RendezvousPolicy"/>),
/// when a round ends and what follows (<see cref="RoundPolicy"/>, <see cref="RestartBudget"/>, <see cref="HangWatchdog"/>),
/// and what the status shows (<see cref="JobStatusProjection"/>).
/// <para>
/// Every message from an agent after its registration, and every command, arrives sealed (<see cref="SealedMessage"/>):
/// one that does not open under its session's key is dropped and counted.
/// </para>
/// <para>
/// Supervision: it has no children. Its parent, <see cref="CoordinatorSupervisor"/>, stops an incarnation that throws and
/// starts a new one, which reads the store again; the agents see the old one terminate and register with the new one.
/// </para>
/// </summary>
public sealed partial class JobCoordinator : ReceiveActor, IWithTimers
{
    /// <summary>Where agents find the coordinator: <c>/user/coordinator</c> (its supervisor, which forwards to the incarnation).</summary>
    public const string Name = "coordinator";

    private const string PublishTimer = "publish";
    private const string RendezvousTimer = "rendezvous";
    private const string AdmissionTimer = "admission";
    private const string FenceRetryTimer = "fence-retry";
    private const string HangTimer = "hang";
    private const string ProgressTimer = "progress";
    private const string ScaleUpTimer = "scale-up";
    private const string EndDeadlineTimer = "end-deadline";

    private static readonly TimeSpan PublishInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ScaleUpInterval = TimeSpan.FromSeconds(2);

    private readonly JobSpec _spec;
    private readonly ICheckpointLedger _ledger;
    private readonly JobOutcome _outcome;
    private readonly IJobEvents _events;
    private readonly JobMetrics _metrics;
    private readonly RestartBudget _budget;
    private readonly AgentRegistry _agents;
    private readonly SessionChannel _commands;
    private readonly HangWatchdog _watchdog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DateTimeOffset _startedAt;
    private string _state = JobStates.Rendezvous;
    private string _message = "reading the checkpoint store";
    private long _lastRound;
    private long _roundsRun;
    private Round? _round;
    private CommittedCheckpoint? _lastCheckpoint;
    private bool _rendezvousElapsed;
    private bool _ledgerReadInFlight;
    private long _refusedReported;

    public JobCoordinator(JobSpec spec, ICheckpointLedger ledger, JobOutcome outcome, IJobEvents events, JobMetrics metrics, RestartBudget budget)
    {
        _spec = spec;
        _ledger = ledger;
        _outcome = outcome;
        _events = events;
        _metrics = metrics;
        _budget = budget;
        _agents = new AgentRegistry(spec.Key, spec.Version);
        _commands = spec.Key.Commands(SessionSide.Coordinator);
        _watchdog = new HangWatchdog(spec.Fault.HangTimeout);
        _startedAt = Now;
        Loading();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Whether this actor system is a cluster member (actor tests run it in a plain one).</summary>
    internal static bool IsClustered => ((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider;

    private static DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>
    /// The coordinator as the host starts it: a <see cref="CoordinatorSupervisor"/> whose incarnations share the restart
    /// budget and the metrics (a new incarnation neither forgets the restarts spent nor the dashboard's history).
    /// </summary>
    /// <param name="spec">The job.</param>
    /// <param name="ledger">The checkpoint store's view.</param>
    /// <param name="outcome">Completed when the job ends.</param>
    /// <param name="events">Where job events go.</param>
    /// <param name="metrics">Where the coordinator publishes the job's state and the ranks' metrics (the HTTP API reads it); null: its own.</param>
    public static Props Props(JobSpec spec, ICheckpointLedger ledger, JobOutcome outcome, IJobEvents events, JobMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var published = metrics ?? new JobMetrics(InfoOf(spec, ledger, DateTimeOffset.UtcNow), spec.StragglerRatio);
        var budget = new RestartBudget(spec.Fault.MaxRestarts);
        var incarnation = Akka.Actor.Props.Create(() => new JobCoordinator(spec, ledger, outcome, events, published, budget));
        return CoordinatorSupervisor.Props(incarnation, outcome, events);
    }

    /// <summary>What the job's metrics say of it that does not change: the run id is the job and the coordinator's start time.</summary>
    public static JobInfo InfoOf(JobSpec spec, ICheckpointLedger ledger, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(ledger);
        return new JobInfo(spec.Name, $"{spec.Name}-{startedAt.UtcDateTime:yyyyMMdd-HHmmss}", spec.Model, spec.TotalSteps, spec.Version, ledger.Location);
    }

    protected override void PreStart()
    {
        if (IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));
        }

        Timers.StartPeriodicTimer(PublishTimer, new Deadline(PublishTimer), PublishInterval);
        _ledger.ReadAsync().PipeTo(Self, success: latest => new Loaded(latest, null), failure: e => new Loaded(null, e.GetBaseException().Message));
        Publish();
    }

    protected override void PostStop()
    {
        if (IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    // ---- States ----------------------------------------------------------------------------------------------------

    /// <summary>Reading the store's <c>latest</c>: agents may register meanwhile; no round forms yet.</summary>
    private void Loading()
    {
        Become(() =>
        {
            Receive<Loaded>(OnLoaded);
            AnswerAgents((_, _) => { });
            AnswerCommands(StopBeforeRound);
            When(PublishTimer, Publish);
        });
    }

    /// <summary>Waiting for enough agents, then for more up to the maximum (the rendezvous wait), then forming a round.</summary>
    private void Rendezvous()
    {
        _round = null;
        _state = JobStates.Rendezvous;
        _rendezvousElapsed = false;
        Become(() =>
        {
            AnswerAgents((_, message) =>
            {
                if (message is NodeJoined or NodeLost or NodeBack)
                {
                    FormRound();
                }
            });
            AnswerCommands(StopBeforeRound);
            When(RendezvousTimer, () =>
            {
                _rendezvousElapsed = true;
                FormRound();
            });
            When(AdmissionTimer, () => FormRound());
            When(PublishTimer, Publish);
        });
        FormRound();
        Publish();
    }

    /// <summary>Moving the store's round to <paramref name="round"/> (and writing its marker) before any worker starts; transient errors are retried with back-off.</summary>
    private void Fencing(Round round, int attempt)
    {
        _round = round;
        _message = $"round {round.Number}: fencing the checkpoint store" + (attempt > 1 ? $" (attempt {attempt} of {RoundPolicy.FenceAttempts})" : "");
        FenceAsync(round).PipeTo(Self, success: fenced => fenced, failure: e => new FenceFailed(round.Number, attempt, e.GetBaseException()));
        Become(() =>
        {
            Receive<Fenced>(f => f.Round == round.Number, f => OnFenced(round, f));
            Receive<FenceFailed>(f => f.Round == round.Number, f => OnFenceFailed(round, f));
            When(FenceRetryTimer, () => Fencing(new Round(++_lastRound, round.Plan), attempt + 1));
            AnswerAgents((_, _) => { }); // who left is checked once the fence is in place
            AnswerCommands(StopBeforeRound);
            When(PublishTimer, Publish);
        });
        Publish();
    }

    /// <summary>The round's workers train; it ends on a failure, a hang, a lost node, a stop, or a join that makes the group larger at a checkpoint boundary.</summary>
    private void Running(Round round)
    {
        _state = JobStates.Running;
        _watchdog.Reset(Enumerable.Range(0, round.Plan.WorldSize), Now);
        ScheduleHangCheck();
        Timers.StartPeriodicTimer(ProgressTimer, new Deadline(ProgressTimer), ProgressInterval);
        Become(() =>
        {
            AnswerRoundAgents(round, (agent, message) =>
            {
                switch (message)
                {
                    case WorkerExited exited when Owns(round, agent, exited.Rank):
                        OnWorkerExited(round, exited with { Node = agent.Node });
                        break;
                    case RoundRefused refused when refused.Round == round.Number:
                        round.LoseNode(agent.Node); // it started none of its workers
                        EndRound(round, new RoundEnd($"node '{agent.Node}' started no worker of round {round.Number}: {refused.Reason}", RoundEndKind.Fatal, Graceful: false, Now));
                        break;
                    case NodeLost lost when round.Includes(lost.Node):
                        round.LoseNode(lost.Node);
                        EndRound(round, new RoundEnd(lost.Cause, RoundEndKind.NodeLost, Graceful: false, Now));
                        break;
                    case NodeJoined or NodeBack:
                        ConsiderScaleUp(round);
                        break;
                }
            });
            AnswerCommands(stop =>
            {
                Sender.Tell(new StopAccepted(true, "stopping: the workers checkpoint and exit"));
                _events.Report($"stop requested: {stop.Reason}");
                EndRound(round, new RoundEnd($"stopped on request ({stop.Reason})", RoundEndKind.Stop, Graceful: true, Now));
            });
            When(HangTimer, () => OnHangCheck(round));
            When(ProgressTimer, () => ReportProgress(round));
            When(ScaleUpTimer, () => ConsiderScaleUp(round));
            When(AdmissionTimer, () => ConsiderScaleUp(round));
            Receive<LedgerRead>(read => read.Round == round.Number, read => OnLedgerRead(round, read));
            When(PublishTimer, Publish);
        });
        ConsiderScaleUp(round);
        Publish();
    }

    /// <summary>Every worker of the round is being stopped; the round is over once each has exited (or the deadline passed).</summary>
    private void Ending(Round round)
    {
        var end = round.End!;
        _state = end.Kind == RoundEndKind.Stop ? JobStates.Stopping : end.IsFailure || end.Kind == RoundEndKind.Fatal ? JobStates.Restarting : JobStates.Running;
        _message = $"round {round.Number} ending: {end.Reason}";
        Timers.Cancel(HangTimer);
        Timers.Cancel(ProgressTimer);
        Timers.Cancel(ScaleUpTimer);
        Timers.Cancel(AdmissionTimer);
        var (stage, step) = round.Reached;
        _events.Report($"round {round.Number} ending ({end.KindName}) at {stage} step {step}: {end.Cause}");
        Broadcast(round, new StopRound(round.Number, end.Reason, end.Graceful));
        var terminating = false;
        StartEndDeadline(end.Graceful ? TimeSpan.FromSeconds(Math.Max(60, _watchdog.Timeout.TotalSeconds)) : TerminateWindow);
        Become(() =>
        {
            AnswerRoundAgents(round, (agent, message) =>
            {
                switch (message)
                {
                    case WorkerExited exited when Owns(round, agent, exited.Rank) && round.Record(exited with { Node = agent.Node }):
                        _watchdog.Forget(exited.Rank);
                        if (RoundPolicy.OnWorkerExit(exited with { Node = agent.Node }, Now) is { Kind: RoundEndKind.Fatal } fatal)
                        {
                            // The other ranks failed first (waiting on this one, say): no restart fixes this one's error either.
                            round.Escalate(fatal);
                        }

                        break;
                    case NodeLost lost:
                        round.LoseNode(lost.Node);
                        break;
                }

                if (round.AllExited)
                {
                    RoundOver(round);
                }
            });
            AnswerCommands(stop =>
            {
                Sender.Tell(new StopAccepted(true, "stopping: the round is already ending; the job stops instead of restarting"));
                _events.Report($"stop requested: {stop.Reason}");
                if (round.End!.Kind != RoundEndKind.Fatal)
                {
                    round.StopInstead();
                }
            });
            When(EndDeadlineTimer, () =>
            {
                if (round.End!.Graceful && !terminating)
                {
                    // The agreed stop did not finish in time: terminate instead.
                    terminating = true;
                    _events.Report($"round {round.Number}: the graceful stop did not finish in time; terminating the workers");
                    Broadcast(round, new StopRound(round.Number, round.End.Reason, Checkpoint: false));
                    StartEndDeadline(TerminateWindow);
                    return;
                }

                var left = Enumerable.Range(0, round.Plan.WorldSize).Where(r => !round.Exits.ContainsKey(r)).ToList();
                _events.Report($"round {round.Number}: rank(s) {string.Join(", ", left)} did not report their exit in time; going on without them");
                RoundOver(round);
            });
            When(PublishTimer, Publish);
        });
        Publish();
        if (round.AllExited)
        {
            RoundOver(round);
        }
    }

    /// <summary>The job has ended: it answers status and refuses everything else.</summary>
    private void Finished()
    {
        Timers.CancelAll();
        Timers.StartPeriodicTimer(PublishTimer, new Deadline(PublishTimer), PublishInterval);
        Become(() =>
        {
            Receive<RegisterAgent>(register => Sender.Tell(new AgentRejected(register.Node, $"the job has ended ({_state})")));
            Receive<SealedMessage>(message =>
            {
                if (message.From == JobKey.CommandSender)
                {
                    OnCommand(message, _ => Sender.Tell(new StopAccepted(false, $"the job has already ended ({_state})")));
                }
                else if (_agents.Open(message, Now)?.Message is SampleVideoWritten sample && _round is { } last)
                {
                    OnSample(last, sample);
                }
            });
            When(PublishTimer, Publish);
            ReceiveAny(_ => { }); // late replies (a fence, a ledger read) and membership news change nothing now
        });
        Publish();
    }

    // ---- Transitions -----------------------------------------------------------------------------------------------

    private void OnLoaded(Loaded loaded)
    {
        if (loaded.Error is not null)
        {
            Finish(false, $"cannot read the checkpoint store {_ledger.Location}: {loaded.Error}");
            return;
        }

        _lastCheckpoint = loaded.Latest is { Step: > 0 } ? loaded.Latest : null;
        _lastRound = loaded.Latest?.Round ?? 0;
        if (_spec.Resume is null && _lastCheckpoint is { Stage: "dit", RunPublished: true } done && done.Step >= _spec.TotalSteps)
        {
            // Launching a finished job again must not start workers that would rewrite its results from nothing. (A final
            // checkpoint without published outputs is not finished: a round resumes from it and publishes them.)
            Finish(true, $"job '{_spec.Name}' is already complete: its last checkpoint is step {done.Step} of {_spec.TotalSteps} in {_ledger.Location}; remove that checkpoint directory to train it again", JobStates.Succeeded);
            return;
        }

        _message = _lastCheckpoint is null ? "waiting for agents" : $"waiting for agents; will resume from step {_lastCheckpoint.Step}";
        _events.Report(_lastCheckpoint is null
            ? $"job '{_spec.Name}': no committed checkpoint in {_ledger.Location}; the first round starts from scratch"
            : $"job '{_spec.Name}': last committed checkpoint is step {_lastCheckpoint.Step} (round {_lastCheckpoint.Round}) in {_ledger.Location}");
        Rendezvous();
    }

    /// <summary>Forms a round when enough nodes are in and the rendezvous wait allows; otherwise says what it waits for.</summary>
    private void FormRound()
    {
        var now = Now;
        var fault = _spec.Fault;
        var available = _agents.Candidates(now);
        ScheduleAdmission(now);
        if (available.Count < fault.MinNodes)
        {
            Timers.Cancel(RendezvousTimer);
            _rendezvousElapsed = false;
            _message = $"waiting for nodes: {available.Count} of at least {fault.MinNodes}";
            return;
        }

        if (available.Count < fault.MaxNodes && !_rendezvousElapsed)
        {
            if (!Timers.IsTimerActive(RendezvousTimer))
            {
                Timers.StartSingleTimer(RendezvousTimer, new Deadline(RendezvousTimer), fault.RendezvousWaitOrDefault);
            }

            _message = $"{available.Count} node(s) in; waiting up to {fault.RendezvousWaitOrDefault.TotalSeconds:F0} s for up to {fault.MaxNodes}";
            return;
        }

        var plan = RendezvousPolicy.Plan(available, fault.MinNodes, fault.MaxNodes, _spec.Batches, out var reason);
        if (plan is null)
        {
            _message = reason!;
            return;
        }

        Timers.Cancel(RendezvousTimer);
        Timers.Cancel(AdmissionTimer);
        Fencing(new Round(++_lastRound, plan), attempt: 1);
    }

    private void OnFenced(Round round, Fenced fenced)
    {
        var missing = round.Plan.Nodes.Where(n => _agents.Find(n.Node) is not { Reachable: true }).Select(n => n.Node).ToList();
        if (missing.Count > 0)
        {
            _events.Report($"round {round.Number} not started: node(s) {string.Join(", ", missing)} left during rendezvous");
            Rendezvous();
            return;
        }

        _lastCheckpoint = fenced.Checkpoint is { Step: > 0 } ? fenced.Checkpoint : null;
        var from = RoundResume.For(_spec.Resume, firstRound: _roundsRun == 0, _lastCheckpoint);
        round.Start(Now, from.Step, from.Step > 0 ? _lastCheckpoint?.Stage ?? "dit" : "");
        _roundsRun++;
        string[] arguments = from.Argument is { } checkpoint ? [.. _spec.WorkerArguments, .. WorkerCommandLine.Resume(checkpoint)] : [.. _spec.WorkerArguments];
        foreach (var node in round.Plan.Nodes)
        {
            var agent = _agents.Find(node.Node)!;
            agent.Agent.Tell(agent.Channel.Seal(new StartRound(round.Number, round.AssignmentsOf(node.Node), round.Plan.WorldSize, _spec.StoreHost, _spec.StorePort, _spec.Yaml, _spec.Name, arguments, fenced.Marker)));
        }

        _message = from.Step > 0 ? $"round {round.Number} resumed from step {from.Step}" : $"round {round.Number} started from scratch";
        _events.Report($"round {round.Number}: {round.Plan.WorldSize} ranks on {round.Plan.Nodes.Count} node(s) ({string.Join(", ", round.Plan.Nodes.Select(n => $"{n.Node}×{n.ProcessesPerNode}"))}), "
            + from.Description);
        Running(round);
    }

    private void OnFenceFailed(Round round, FenceFailed failed)
    {
        var error = failed.Error.Message;
        if (RoundPolicy.FenceRetry(failed.Attempt, failed.Error) is not { } delay)
        {
            var attempts = failed.Attempt > 1 ? $" (after {failed.Attempt} attempts)" : "";
            Finish(false, $"round {round.Number}: cannot fence the checkpoint store {_ledger.Location}{attempts}: {error}");
            return;
        }

        _events.Report($"round {round.Number}: fencing the checkpoint store {_ledger.Location} failed ({error}); trying again in {delay.TotalSeconds:F0} s (attempt {failed.Attempt + 1} of {RoundPolicy.FenceAttempts})");
        Timers.StartSingleTimer(FenceRetryTimer, new Deadline(FenceRetryTimer), delay);
    }

    private void EndRound(Round round, RoundEnd end)
    {
        if (round.Ending(end))
        {
            Ending(round);
        }
    }

    private void RoundOver(Round round)
    {
        var failed = round.Exits.Values.Count(e => e.ExitCode != 0 && !e.Requested);
        var ran = round.StartedAt is { } started ? (Now - started).TotalSeconds : 0;
        _events.Report($"round {round.Number} ended after {ran:F1} s ({round.Exits.Count} of {round.Plan.WorldSize} ranks accounted for{(failed > 0 ? $", {failed} failed" : "")})");
        var next = RoundPolicy.After(round, _spec.Name, _budget, _ledger.Location, _lastCheckpoint);
        if (next.Ends)
        {
            Finish(next.Success, next.Message!, next.State);
            return;
        }

        if (next.Message is { } note)
        {
            _events.Report(note);
        }

        Rendezvous();
    }

    private void StopBeforeRound(StopJob stop)
    {
        Sender.Tell(new StopAccepted(true, "stopping: no round runs"));
        _events.Report($"stop requested: {stop.Reason}");
        var when = _roundsRun == 0 ? "before a round ran" : "between rounds";
        Finish(true, $"stopped on request {when} ({stop.Reason})", JobStates.Stopped);
    }

    private void Finish(bool success, string message, string? state = null)
    {
        _state = state ?? (success ? JobStates.Succeeded : JobStates.Failed);
        _message = message;
        _events.Report(message);
        foreach (var agent in _agents.Agents.Where(a => a.Reachable))
        {
            agent.Agent.Tell(agent.Channel.Seal(new JobEnded(success, message)));
        }

        _outcome.Complete(success, message);
        Finished();
    }

    private void Broadcast(Round round, StopRound stop)
    {
        foreach (var node in round.Plan.Nodes)
        {
            if (_agents.Find(node.Node) is { Reachable: true } agent)
            {
                agent.Agent.Tell(agent.Channel.Seal(stop));
            }
        }
    }

    private Task<Fenced> FenceAsync(Round round)
    {
        var ledger = _ledger;
        return Run();

        async Task<Fenced> Run()
        {
            var checkpoint = await ledger.FenceAsync(round.Number).ConfigureAwait(false);
            var marker = await ledger.WriteRoundMarkerAsync(round.Number).ConfigureAwait(false);
            return new Fenced(round.Number, checkpoint, marker);
        }
    }

    // ---- Timers ----------------------------------------------------------------------------------------------------

    private static TimeSpan TerminateWindow => TimeSpan.FromSeconds(10);

    private void StartEndDeadline(TimeSpan after) => Timers.StartSingleTimer(EndDeadlineTimer, new Deadline(EndDeadlineTimer), after);

    /// <summary>The hang timer fires at the earliest moment a rank can be hung; if none is by then, it is set again.</summary>
    private void ScheduleHangCheck()
    {
        if (_watchdog.Deadline is { } deadline)
        {
            var wait = deadline - Now;
            Timers.StartSingleTimer(HangTimer, new Deadline(HangTimer), wait > TimeSpan.Zero ? wait + TimeSpan.FromMilliseconds(50) : TimeSpan.FromMilliseconds(50));
        }
    }

    private void ScheduleAdmission(DateTimeOffset now)
    {
        if (_agents.NextAdmission(now) is { } at)
        {
            Timers.StartSingleTimer(AdmissionTimer, new Deadline(AdmissionTimer), at - now);
        }
    }

    private void Publish() =>
        _metrics.Publish(Status(), JobStatusProjection.Reports(_round), Now);

    private JobStatus Status() =>
        JobStatusProjection.Status(new CoordinatorView(_spec.Name, _state, _message, _startedAt, _agents, _round, _lastRound, _budget, _lastCheckpoint, _ledger.Location), Now);

    private sealed record Loaded(CommittedCheckpoint? Latest, string? Error);

    private sealed record Fenced(long Round, CommittedCheckpoint Checkpoint, StoreMarker? Marker);

    private sealed record FenceFailed(long Round, int Attempt, Exception Error);

    private sealed record LedgerRead(long Round, CommittedCheckpoint? Latest);

    /// <summary>The states that wait for <paramref name="timer"/> answer it with <paramref name="action"/>.</summary>
    private void When(string timer, Action action) => Receive<Deadline>(d => d.Name == timer, _ => action());








}
