using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The job's lifecycle, one actor: rendezvous (which agents are in, node and global ranks), rounds (one numbered
/// incarnation of the worker group at a fixed world size), the checkpoint a round resumes from (fenced in the
/// store), and health (worker exits, the progress watchdog, lost nodes). Any failure ends the round: every worker
/// is stopped and, while the restart budget lasts, a new round starts from the last committed checkpoint on the
/// nodes still there (elastically, within the node limits).
/// <para>
/// Supervision: this actor is a child of the user guardian and has no children of its own; its state is rebuilt
/// from the checkpoint store and the agents' re-registration, so the default restart on an exception is safe.
/// </para>
/// </summary>
public sealed class JobCoordinator : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name: agents find it at <c>/user/coordinator</c>.</summary>
    public const string Name = "coordinator";

    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(15);

    private readonly JobSpec _spec;
    private readonly ICheckpointLedger _ledger;
    private readonly JobOutcome _outcome;
    private readonly IJobEvents _events;
    private readonly JobMetrics _metrics;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, AgentEntry> _agents = new(StringComparer.Ordinal);
    private readonly RestartBudget _budget;
    private readonly HangWatchdog _watchdog;
    private readonly DateTimeOffset _startedAt;
    private long _joinOrder;
    private long _lastRound;
    private bool _loaded;
    private bool _startedARound;
    private Round? _round;
    private DateTimeOffset? _enoughNodesSince;
    private string _state = JobStates.Rendezvous;
    private string _message = "reading the checkpoint store";
    private CommittedCheckpoint? _lastCheckpoint;
    private Round? _finishedRound;
    private DateTimeOffset _lastProgressReport;
    private string? _publishedState;
    private long _publishedRound = -1;

    public JobCoordinator(JobSpec spec, ICheckpointLedger ledger, JobOutcome outcome, IJobEvents events, JobMetrics? metrics = null)
    {
        _spec = spec;
        _ledger = ledger;
        _outcome = outcome;
        _events = events;
        _metrics = metrics ?? new JobMetrics(InfoOf(spec, ledger, Context.System.Scheduler.Now), spec.StragglerRatio);
        _budget = new RestartBudget(spec.Fault.MaxRestarts);
        _watchdog = new HangWatchdog(spec.Fault.HangTimeout);
        _startedAt = Now;

        Receive<Loaded>(OnLoaded);
        Receive<RegisterAgent>(OnRegister);
        Receive<AgentHeartbeat>(OnHeartbeat);
        Receive<WorkerExited>(OnWorkerExited);
        Receive<Fenced>(OnFenced);
        Receive<Tick>(_ =>
        {
            OnTick();
            Publish();
        });
        Receive<StopJob>(OnStopJob);
        Receive<GetStatus>(_ => Sender.Tell(Status()));
        Receive<SampleVideoWritten>(OnSample);
        Receive<ClusterEvent.UnreachableMember>(e => OnNodeLost(e.Member.Address, "unreachable (the failure detector lost its heartbeats)"));
        Receive<ClusterEvent.MemberRemoved>(e => OnNodeLost(e.Member.Address, "removed from the cluster"));
        Receive<ClusterEvent.ReachableMember>(e => SetReachable(e.Member.Address, true));
        Receive<Terminated>(t => OnAgentTerminated(t.ActorRef));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Whether this actor system is a cluster member (actor tests run it in a plain one).</summary>
    internal static bool IsClustered => ((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider;

    private static DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <param name="spec">The job.</param>
    /// <param name="ledger">The checkpoint store's view.</param>
    /// <param name="outcome">Completed when the job ends.</param>
    /// <param name="events">Where job events go.</param>
    /// <param name="metrics">Where the coordinator publishes the job's state and the ranks' metrics (the HTTP API reads it); null: its own.</param>
    public static Props Props(JobSpec spec, ICheckpointLedger ledger, JobOutcome outcome, IJobEvents events, JobMetrics? metrics = null) =>
        Akka.Actor.Props.Create(() => new JobCoordinator(spec, ledger, outcome, events, metrics));

    /// <summary>What the job's metrics say of it that does not change: the run id is the job and the coordinator's start time.</summary>
    public static JobInfo InfoOf(JobSpec spec, ICheckpointLedger ledger, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(ledger);
        return new JobInfo(spec.Name, $"{spec.Name}-{startedAt.UtcDateTime:yyyyMMdd-HHmmss}", spec.Model, spec.TotalSteps, spec.Version, ledger.Location);
    }

    /// <summary>
    /// The job's state goes to the metrics once a second (the tick), however many agents report, and at once when the
    /// job's state or round changes, so a restart or the job's end shows without waiting.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        // (A tick arrives wrapped by the timer scheduler: OnTick publishes.)
        if (_state != _publishedState || (_round?.Number ?? _lastRound) != _publishedRound)
        {
            Publish();
        }

        return handled;
    }

    private void Publish()
    {
        _publishedState = _state;
        _publishedRound = _round?.Number ?? _lastRound;
        var round = _round ?? _finishedRound;
        var reports = round is null ? [] : round.Ranks
            .Where(r => r.Value?.Metrics is not null)
            .Select(r => new RankReport(r.Key, r.Value!.Pid, r.Value.Metrics!))
            .ToArray();
        _metrics.Publish(Status(), reports, Now);
    }

    private void OnSample(SampleVideoWritten sample)
    {
        if ((_round ?? _finishedRound) is { } round && sample.Round == round.Number)
        {
            _metrics.AddSample(sample.Video, Now);
        }
    }

    /// <summary>The digest an agent sends for <paramref name="token"/> (the token itself never travels or gets logged).</summary>
    public static string TokenDigest(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("sora-job-token:" + token)));

    protected override void PreStart()
    {
        if (IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));
        }

        Timers.StartPeriodicTimer("tick", Tick.Instance, TickInterval);
        var self = Self;
        _ledger.ReadAsync().ContinueWith(t => new Loaded(t.IsCompletedSuccessfully ? t.Result : null, t.Exception?.GetBaseException().Message)).PipeTo(self);
    }

    protected override void PostStop()
    {
        if (IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    private void OnLoaded(Loaded loaded)
    {
        if (loaded.Error is not null)
        {
            Finish(false, $"cannot read the checkpoint store {_ledger.Location}: {loaded.Error}");
            return;
        }

        _loaded = true;
        _lastCheckpoint = loaded.Latest is { Step: > 0 } ? loaded.Latest : null;
        _lastRound = loaded.Latest?.Round ?? 0;
        _message = _lastCheckpoint is null ? "waiting for agents" : $"waiting for agents; will resume from step {_lastCheckpoint.Step}";
        if (_spec.Resume is null && _lastCheckpoint is { Stage: "dit" } done && done.Step >= _spec.TotalSteps)
        {
            // Launching a finished job again must not start workers that would rewrite its results from nothing.
            Finish(true, $"job '{_spec.Name}' is already complete: its last checkpoint is step {done.Step} of {_spec.TotalSteps} in {_ledger.Location}; remove that checkpoint directory to train it again", JobStates.Succeeded);
            return;
        }

        _events.Report(_lastCheckpoint is null
            ? $"job '{_spec.Name}': no committed checkpoint in {_ledger.Location}; the first round starts from scratch"
            : $"job '{_spec.Name}': last committed checkpoint is step {_lastCheckpoint.Step} (round {_lastCheckpoint.Round}) in {_ledger.Location}");
        TryFormRound();
    }

    private void OnRegister(RegisterAgent register)
    {
        string? refusal = null;
        var retryable = false;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(register.TokenDigest), Encoding.ASCII.GetBytes(_spec.TokenDigest)))
        {
            refusal = "wrong job token: the agent must use the token of this job (SORA_JOB_TOKEN or --token-file)";
        }
        else if (register.Version != _spec.Version)
        {
            refusal = $"version mismatch: the agent runs sora {register.Version}, the coordinator {_spec.Version}";
        }
        else if (register.ProcessesPerNode < 1)
        {
            refusal = $"--nproc-per-node must be >= 1 (got {register.ProcessesPerNode})";
        }
        else if (_state is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped)
        {
            refusal = $"the job has ended ({_state})";
        }
        else if (_agents.TryGetValue(register.Node, out var existing) && !existing.Agent.Equals(register.Agent))
        {
            if (existing.Reachable && !existing.Terminated)
            {
                refusal = $"node name '{register.Node}' is already taken by an agent at {existing.Agent.Path.Address}";
                retryable = true;
            }
            else
            {
                RemoveAgent(existing, "replaced by a new agent of the same name");
            }
        }

        if (refusal is not null)
        {
            _events.Report($"agent '{register.Node}' ({register.Agent.Path.Address}) refused: {refusal}");
            register.Agent.Tell(new AgentRejected(register.Node, refusal, retryable));
            return;
        }

        if (_agents.TryGetValue(register.Node, out var known) && known.Agent.Equals(register.Agent))
        {
            register.Agent.Tell(new AgentAccepted(register.Node, _spec.Name));
            return;
        }

        var entry = new AgentEntry(register, AddressOf(register.Agent), _joinOrder++) { LastHeartbeat = Now };
        _agents[register.Node] = entry;
        Context.Watch(register.Agent);
        register.Agent.Tell(new AgentAccepted(register.Node, _spec.Name));
        _events.Report($"agent '{register.Node}' joined ({register.Host}, {register.ProcessesPerNode} worker{(register.ProcessesPerNode == 1 ? "" : "s")}); {_agents.Count} node(s) in the job");

        // A node that comes back (or a new one) joins at the next checkpoint boundary.
        if (_round is { Ending: false } round && _state == JobStates.Running && round.Plan.Nodes.Count < _spec.Fault.MaxNodes)
        {
            EndRound(round, $"node '{register.Node}' joined: re-forming the group at a checkpoint boundary", "scale-up", graceful: true, failure: false);
        }
        else
        {
            TryFormRound();
        }
    }

    private void OnHeartbeat(AgentHeartbeat heartbeat)
    {
        if (!_agents.TryGetValue(heartbeat.Node, out var agent))
        {
            return;
        }

        agent.LastHeartbeat = Now;
        if (_round is not { } round || heartbeat.Round != round.Number)
        {
            return;
        }

        foreach (var report in heartbeat.Workers)
        {
            if (round.Ranks.ContainsKey(report.Rank))
            {
                round.Ranks[report.Rank] = report;
                NoteFirstStep(round, report);
                if (!round.Exited.ContainsKey(report.Rank))
                {
                    _watchdog.Observe(report.Rank, report.SecondsSinceOutput, report.StepSeconds, Now);
                }
            }
        }
    }

    /// <summary>Reports when a round first trains: a step past the one it resumed from (how long a recovery took, to the user and to <c>sora bench recovery</c>).</summary>
    private void NoteFirstStep(Round round, WorkerReport report)
    {
        var resumed = round.ResumedFrom;
        // A round resumed in one stage has trained once that stage passes the step it resumed from, or a later stage starts.
        var trained = report.Stage == round.ResumedStage ? report.Step > resumed : report.Stage.Length > 0 && report.Step >= 1;
        if (round.FirstStepReported || !round.Started || !trained)
        {
            return;
        }

        round.FirstStepReported = true;
        var at = Now - TimeSpan.FromSeconds(Math.Max(0, report.SecondsSinceOutput));
        _events.Report($"round {round.Number}: training: {report.Stage} step {report.Step} at {at.ToLocalTime():HH:mm:ss.fff}, {(at - round.StartedAt).TotalSeconds:F1} s after the round started (resumed from step {resumed})");
    }

    private void OnWorkerExited(WorkerExited exited)
    {
        if (_round is not { } round || exited.Round != round.Number || !round.Ranks.ContainsKey(exited.Rank) || round.Exited.ContainsKey(exited.Rank))
        {
            return;
        }

        round.Exited[exited.Rank] = exited;
        _watchdog.Forget(exited.Rank);
        if (round.Ending)
        {
            MaybeRoundEnded(round);
            return;
        }

        if (exited.ExitCode != 0)
        {
            var tail = string.IsNullOrWhiteSpace(exited.LogTail) ? "" : $"\n--- last lines of rank {exited.Rank} ({exited.LogFile}) ---\n{exited.LogTail.TrimEnd()}";
            EndRound(round, $"rank {exited.Rank} on node '{exited.Node}' failed: {exited.How}{tail}", "worker-exit", graceful: false, failure: true);
            return;
        }

        if (round.Exited.Count == round.Ranks.Count)
        {
            Finish(true, $"job '{_spec.Name}' completed: {round.Plan.WorldSize} ranks on {round.Plan.Nodes.Count} node(s), round {round.Number}, {_budget.Used} restart(s)");
        }
    }

    private void OnFenced(Fenced fenced)
    {
        if (_round is not { } round || round.Number != fenced.Round || round.Started)
        {
            return;
        }

        if (fenced.Error is not null)
        {
            Finish(false, $"round {round.Number}: cannot fence the checkpoint store {_ledger.Location}: {fenced.Error}");
            return;
        }

        var missing = round.Plan.Nodes.Where(n => !_agents.TryGetValue(n.Node, out var a) || !a.Reachable).Select(n => n.Node).ToList();
        if (missing.Count > 0)
        {
            _events.Report($"round {round.Number} not started: node(s) {string.Join(", ", missing)} left during rendezvous");
            _round = null;
            _state = JobStates.Rendezvous;
            TryFormRound();
            return;
        }

        round.Started = true;
        round.StartedAt = Now;
        _lastCheckpoint = fenced.Checkpoint is { Step: > 0 } ? fenced.Checkpoint : null;
        var from = RoundResume.For(_spec.Resume, firstRound: !_startedARound, _lastCheckpoint);
        _startedARound = true;
        round.ResumedFrom = from.Step;
        round.ResumedStage = from.Step > 0 ? _lastCheckpoint?.Stage ?? "dit" : "";
        string[] arguments = from.Argument is { } checkpoint ? [.. _spec.WorkerArguments, .. WorkerCommandLine.Resume(checkpoint)] : [.. _spec.WorkerArguments];
        foreach (var node in round.Plan.Nodes)
        {
            var workers = round.Plan.Ranks.Select((r, rank) => (r, rank)).Where(x => x.r.Node == node.Node).Select(x => new RankAssignment(x.rank, x.r.LocalRank)).ToArray();
            _agents[node.Node].Agent.Tell(new StartRound(round.Number, workers, round.Plan.WorldSize, _spec.StoreHost, _spec.StorePort, _spec.Yaml, _spec.Name, arguments));
        }

        _watchdog.Reset(round.Ranks.Keys, Now);
        _state = JobStates.Running;
        _message = from.Step > 0 ? $"round {round.Number} resumed from step {from.Step}" : $"round {round.Number} started from scratch";
        _events.Report($"round {round.Number}: {round.Plan.WorldSize} ranks on {round.Plan.Nodes.Count} node(s) ({string.Join(", ", round.Plan.Nodes.Select(n => $"{n.Node}×{n.ProcessesPerNode}"))}), "
            + from.Description);
    }

    private void OnTick()
    {
        var now = Now;
        if (_state == JobStates.Rendezvous || _state == JobStates.Restarting)
        {
            TryFormRound();
        }

        if (_round is not { } round)
        {
            return;
        }

        if (round.Ending)
        {
            if (now >= round.EndDeadline)
            {
                if (round.Graceful)
                {
                    // The agreed stop did not finish in time: terminate instead.
                    _events.Report($"round {round.Number}: the graceful stop did not finish within {(round.EndDeadline - round.EndStarted).TotalSeconds:F0} s; terminating the workers");
                    round.Graceful = false;
                    round.EndDeadline = now + _spec.Fault.StopGraceOrDefault + TimeSpan.FromSeconds(5);
                    Broadcast(round, new StopRound(round.Number, round.EndCause!, Checkpoint: false));
                }
                else
                {
                    var left = round.Ranks.Keys.Where(r => !round.Exited.ContainsKey(r)).ToList();
                    _events.Report($"round {round.Number}: rank(s) {string.Join(", ", left)} did not report their exit in time; going on without them");
                    AfterRoundEnded(round);
                }
            }

            return;
        }

        if (!round.Started)
        {
            return;
        }

        if (now - _lastProgressReport >= ProgressInterval)
        {
            _lastProgressReport = now;
            ReportProgress(round);
        }

        // Every rank waiting on a frozen peer is silent too: blame a rank whose process is stopped first.
        var hung = _watchdog.Hung(now);
        if (hung.Count > 0)
        {
            var (rank, silent) = hung.OrderBy(h => round.Ranks[h.Rank]?.State == "stopped" ? 0 : 1).First();
            var node = round.Plan.Ranks[rank].Node;
            var report = round.Ranks[rank];
            var state = report?.State == "stopped" ? " (its process is stopped: SIGSTOP)" : "";
            EndRound(round, $"rank {rank} on node '{node}' is hung: no progress for {silent.TotalSeconds:F0} s (hang timeout {_watchdog.Timeout.TotalSeconds:F0} s){state}", "hang", graceful: false, failure: true);
        }
    }

    private void ReportProgress(Round round)
    {
        var reports = round.Ranks.Values.Where(r => r is not null).Select(r => r!).ToList();
        if (reports.Count == 0)
        {
            return;
        }

        var slowest = reports.OrderBy(r => r.Stage == "dit" ? 1 : 0).ThenBy(r => r.Step).First();
        var loss = reports.FirstOrDefault(r => r.Rank == 0)?.Loss;
        _events.Report($"round {round.Number}: {slowest.Stage} step {slowest.Step}/{slowest.TotalSteps}" + (loss is { } l ? $", loss {l:F4}" : "")
            + (slowest.StepSeconds is { } s ? $", {s:F2} s/step" : "") + $" ({reports.Count} of {round.Ranks.Count} ranks reporting)");
    }

    private void OnStopJob(StopJob stop)
    {
        if (_state is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped)
        {
            Sender.Tell(new StopAccepted(false, $"the job has already ended ({_state})"));
            return;
        }

        Sender.Tell(new StopAccepted(true, "stopping: the workers checkpoint and exit"));
        _events.Report($"stop requested: {stop.Reason}");
        if (_round is { Started: true, Ending: false } round)
        {
            EndRound(round, $"stopped on request ({stop.Reason})", "stop", graceful: true, failure: false);
        }
        else if (_round is { Ending: true } ending)
        {
            // A failed round is being torn down: the job stops instead of restarting.
            ending.Kind = "stop";
        }
        else
        {
            Finish(true, $"stopped on request before a round ran ({stop.Reason})", JobStates.Stopped);
        }
    }

    private void OnNodeLost(Address address, string how)
    {
        var agent = _agents.Values.FirstOrDefault(a => a.Address.Equals(address));
        if (agent is null)
        {
            return;
        }

        agent.Reachable = false;
        LoseAgent(agent, $"node '{agent.Info.Node}' ({agent.Info.Host}) is {how}");
    }

    private void OnAgentTerminated(IActorRef actor)
    {
        var agent = _agents.Values.FirstOrDefault(a => a.Agent.Equals(actor));
        if (agent is null)
        {
            return;
        }

        agent.Terminated = true;
        LoseAgent(agent, $"node '{agent.Info.Node}' ({agent.Info.Host}): its agent stopped");
        RemoveAgent(agent, "its agent stopped");
    }

    private void LoseAgent(AgentEntry agent, string cause)
    {
        if (_round is not { } round || !round.Plan.Nodes.Any(n => n.Node == agent.Info.Node))
        {
            if (!agent.Reachable)
            {
                _events.Report(cause);
            }

            return;
        }

        // Its workers cannot report their exit: count them as gone (its side stops them itself).
        foreach (var rank in Enumerable.Range(0, round.Plan.WorldSize).Where(r => round.Plan.Ranks[r].Node == agent.Info.Node && !round.Exited.ContainsKey(r)))
        {
            round.Exited[rank] = new WorkerExited(agent.Info.Node, round.Number, rank, -9, true, "", "");
            _watchdog.Forget(rank);
        }

        if (round.Ending)
        {
            MaybeRoundEnded(round);
        }
        else
        {
            EndRound(round, cause, "node-lost", graceful: false, failure: true);
        }
    }

    private void SetReachable(Address address, bool reachable)
    {
        foreach (var agent in _agents.Values.Where(a => a.Address.Equals(address)))
        {
            agent.Reachable = reachable;
            if (reachable)
            {
                _events.Report($"node '{agent.Info.Node}' is reachable again");
            }
        }
    }

    private void RemoveAgent(AgentEntry agent, string why)
    {
        if (_agents.TryGetValue(agent.Info.Node, out var current) && current == agent)
        {
            _agents.Remove(agent.Info.Node);
            Context.Unwatch(agent.Agent);
            _log.Info("agent {0} removed: {1}", agent.Info.Node, why);
        }
    }

    private void TryFormRound()
    {
        if (!_loaded || _round is not null || _state is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped)
        {
            return;
        }

        var available = _agents.Values.Where(a => a.Reachable && !a.Terminated).Select(a => new CandidateNode(a.Info.Node, a.Info.ProcessesPerNode, a.JoinOrder)).ToList();
        var fault = _spec.Fault;
        if (available.Count < fault.MinNodes)
        {
            _enoughNodesSince = null;
            _message = $"waiting for nodes: {available.Count} of at least {fault.MinNodes}";
            return;
        }

        _enoughNodesSince ??= Now;
        if (available.Count < fault.MaxNodes && Now - _enoughNodesSince < fault.RendezvousWaitOrDefault)
        {
            _message = $"{available.Count} node(s) in; waiting up to {fault.RendezvousWaitOrDefault.TotalSeconds:F0} s for up to {fault.MaxNodes}";
            return;
        }

        var plan = RendezvousPolicy.Plan(available, fault.MinNodes, fault.MaxNodes, _spec.Batches, out var reason);
        if (plan is null)
        {
            _message = reason!;
            return;
        }

        _enoughNodesSince = null;
        var round = new Round(++_lastRound, plan);
        foreach (var rank in Enumerable.Range(0, plan.WorldSize))
        {
            round.Ranks[rank] = null;
        }

        _round = round;
        _message = $"round {round.Number}: fencing the checkpoint store";
        var self = Self;
        _ledger.FenceAsync(round.Number).ContinueWith(t => new Fenced(round.Number, t.IsCompletedSuccessfully ? t.Result : null, t.Exception?.GetBaseException().Message)).PipeTo(self);
    }

    private void EndRound(Round round, string cause, string kind, bool graceful, bool failure)
    {
        round.Ending = true;
        round.EndCause = cause;
        round.Kind = kind;
        round.Failure = failure;
        round.Graceful = graceful;
        round.EndStarted = Now;
        var gracefulWindow = TimeSpan.FromSeconds(Math.Max(60, _watchdog.Timeout.TotalSeconds));
        round.EndDeadline = Now + (graceful ? gracefulWindow : _spec.Fault.StopGraceOrDefault + TimeSpan.FromSeconds(5));
        round.DetectedAt = Now;
        _state = kind == "stop" ? JobStates.Stopping : failure ? JobStates.Restarting : JobStates.Running;
        _message = $"round {round.Number} ending: {FirstLine(cause)}";
        // The furthest step any rank reported, in the furthest stage reached (steps number from 1 in each stage).
        var furthest = round.Ranks.Values.Where(r => r is { Stage.Length: > 0 }).Select(r => r!).OrderBy(r => r.Stage == "dit" ? 1 : 0).ThenBy(r => r.Step).LastOrDefault();
        _events.Report($"round {round.Number} ending ({kind}) at {(furthest?.Stage is { Length: > 0 } stage ? stage : "dit")} step {furthest?.Step ?? 0}: {cause}");
        Broadcast(round, new StopRound(round.Number, FirstLine(cause), graceful));
        MaybeRoundEnded(round);
    }

    private void Broadcast(Round round, StopRound stop)
    {
        foreach (var node in round.Plan.Nodes)
        {
            if (_agents.TryGetValue(node.Node, out var agent) && agent.Reachable)
            {
                agent.Agent.Tell(stop);
            }
        }
    }

    private void MaybeRoundEnded(Round round)
    {
        if (round.Exited.Count == round.Ranks.Count)
        {
            AfterRoundEnded(round);
        }
    }

    private void AfterRoundEnded(Round round)
    {
        _round = null;
        var stopped = round.Exited.Values.Count(e => e.ExitCode != 0 && !e.Requested);
        _events.Report($"round {round.Number} ended after {(Now - round.StartedAt).TotalSeconds:F1} s ({round.Exited.Count} of {round.Ranks.Count} ranks accounted for{(stopped > 0 ? $", {stopped} failed" : "")})");
        if (round.Kind == "stop")
        {
            Finish(true, $"job '{_spec.Name}' stopped on request in round {round.Number}, {StopOutcome(round)}. Launch the same job again to continue.", JobStates.Stopped);
            return;
        }

        if (round.Failure)
        {
            if (!_budget.TrySpend(new RestartRecord(round.Number, round.DetectedAt, round.EndCause!, round.Kind!)))
            {
                Finish(false, $"job '{_spec.Name}' failed: the restart budget ({_budget.Max}) is spent. Last failure (round {round.Number}): {round.EndCause}");
                return;
            }

            _events.Report($"restart {_budget.Used} of {_budget.Max}: a new round starts from the last committed checkpoint");
        }

        _state = JobStates.Rendezvous;
        TryFormRound();
    }

    /// <summary>What rank 0 said of its stop: the step and whether its checkpoint was committed.</summary>
    private string StopOutcome(Round round) => round.Exited.GetValueOrDefault(0)?.Stopped switch
    {
        { Stage: "dit", Committed: true } s => $"after DiT step {s.Step}, whose checkpoint is committed in {_ledger.Location}",
        { Stage: "dit" } s => $"after DiT step {s.Step}, but its checkpoint was not committed (see rank 0's log); the last committed one is {(_lastCheckpoint is { } c ? $"step {c.Step}" : "none")}",
        { Stage: "vae" } => "during the VAE stage, which has no checkpoints (launching again trains it anew)",
        _ => $"without a stop report from rank 0; the last committed checkpoint is {(_lastCheckpoint is { } c ? $"step {c.Step}" : "none")}",
    };

    private void Finish(bool success, string message, string? state = null)
    {
        if (_state is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped)
        {
            return;
        }

        _state = state ?? (success ? JobStates.Succeeded : JobStates.Failed);
        _message = message;
        _finishedRound = _round;
        _round = null;
        _events.Report(message);
        foreach (var agent in _agents.Values.Where(a => a.Reachable))
        {
            agent.Agent.Tell(new JobEnded(success, message));
        }

        _outcome.Complete(success, message);
    }

    private JobStatus Status()
    {
        var now = Now;
        var round = _round ?? _finishedRound;
        var ranks = round is null ? [] : round.Plan.Ranks.Select((r, rank) =>
        {
            var report = round.Ranks[rank];
            var exited = round.Exited.GetValueOrDefault(rank);
            var heartbeat = _agents.TryGetValue(r.Node, out var a) ? (now - a.LastHeartbeat).TotalSeconds : double.NaN;
            var state = exited is not null ? (exited.ExitCode == 0 ? "finished" : $"exited ({exited.How})") : report?.State ?? "starting";
            return new RankStatus(rank, r.Node, r.LocalRank, state, report?.Stage ?? "", report?.Step ?? 0, report?.TotalSteps ?? 0, heartbeat, report?.SecondsSinceOutput ?? 0, report?.Loss, report?.StepSeconds, report?.ResidentBytes ?? 0);
        }).ToList();
        var nodes = _agents.Values.OrderBy(a => a.JoinOrder).Select(a => new NodeStatus(a.Info.Node, a.Info.Host, a.Info.ProcessesPerNode, a.Reachable, round?.Plan.Nodes.Any(n => n.Node == a.Info.Node) ?? false, (now - a.LastHeartbeat).TotalSeconds)).ToList();
        return new JobStatus(_spec.Name, _state, round?.Number ?? _lastRound, round?.Plan.WorldSize ?? 0, _message, _startedAt, nodes, ranks, _budget.History.ToList(), _budget.Left, _lastCheckpoint, _ledger.Location);
    }

    private static Address AddressOf(IActorRef actor)
    {
        var address = actor.Path.Address;
        return address.HasLocalScope && IsClustered ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : address;
    }

    private static string FirstLine(string text) => text.Split('\n')[0];

    private sealed record Loaded(CommittedCheckpoint? Latest, string? Error);

    private sealed record Fenced(long Round, CommittedCheckpoint? Checkpoint, string? Error);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class AgentEntry(RegisterAgent info, Address address, long joinOrder)
    {
        public RegisterAgent Info { get; } = info;

        public IActorRef Agent => Info.Agent;

        public Address Address { get; } = address;

        public long JoinOrder { get; } = joinOrder;

        public bool Reachable { get; set; } = true;

        public bool Terminated { get; set; }

        public DateTimeOffset LastHeartbeat { get; set; }
    }

    private sealed class Round(long number, RoundPlan plan)
    {
        public long Number { get; } = number;

        public RoundPlan Plan { get; } = plan;

        public Dictionary<int, WorkerReport?> Ranks { get; } = [];

        public Dictionary<int, WorkerExited> Exited { get; } = [];

        public bool Started { get; set; }

        public long ResumedFrom { get; set; }

        /// <summary>The stage of <see cref="ResumedFrom"/> ("" when the round started from scratch).</summary>
        public string ResumedStage { get; set; } = "";

        public bool FirstStepReported { get; set; }

        public DateTimeOffset StartedAt { get; set; }

        public bool Ending { get; set; }

        public bool Graceful { get; set; }

        public bool Failure { get; set; }

        public string? EndCause { get; set; }

        public string? Kind { get; set; }

        public DateTimeOffset EndStarted { get; set; }

        public DateTimeOffset EndDeadline { get; set; }

        public DateTimeOffset DetectedAt { get; set; }
    }
}
