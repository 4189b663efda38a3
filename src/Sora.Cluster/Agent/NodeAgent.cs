using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Agent;

/// <summary>
/// The agent of one node, in two states. <c>Registering</c>: it asks the coordinator to take it in (a fresh nonce every
/// two seconds) until an acceptance with a valid proof opens its session. <c>Joined</c>: it watches the coordinator's
/// incarnation, seals everything it sends in that session, and opens only what the coordinator sealed: it starts this
/// node's workers for each round (one <see cref="WorkerProcess"/> child per local rank, once the node's checks passed:
/// <see cref="RoundPreflight"/>), relays their state about once a second and their exits at once, and stops them when told.
/// When the coordinator's incarnation terminates, it stops its workers and registers again; when the coordinator is
/// unreachable for longer than the coordinator timeout, it stops them too (the side of a partition without the
/// coordinator must not train on).
/// <para>
/// Supervision: a <see cref="WorkerProcess"/> that throws is stopped, never restarted (its process dies with it, and it
/// reports its rank as exited on its way out); the coordinator then ends the round. Workers are restarted only as a whole
/// new round. The agent itself is restarted by the user guardian (Akka's default): a restarted agent has lost its workers
/// (they stop with their actors) and registers again, which the coordinator takes as the loss of that node's workers.
/// </para>
/// </summary>
public sealed class NodeAgent : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name.</summary>
    public const string Name = "agent";

    /// <summary>How long an agent keeps trying when its node name is held by an agent that is not yet known to be gone.</summary>
    public static readonly TimeSpan NameWait = TimeSpan.FromSeconds(30);

    private const string RegisterTimer = "register";
    private const string HeartbeatTimer = "heartbeat";
    private const string CoordinatorLostTimer = "coordinator-lost";

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RegisterInterval = TimeSpan.FromSeconds(2);
    private const int PendingRegistrations = 4;

    private readonly AgentOptions _options;
    private readonly AgentOutcome _outcome;
    private readonly IJobEvents _events;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ActorSelection _coordinator;
    private readonly Dictionary<IActorRef, int> _workers = [];
    private readonly Dictionary<int, WorkerReport> _reports = [];
    private readonly List<string> _nonces = [];
    private TimeSpan _coordinatorTimeout;
    private DateTimeOffset? _nameRefusedSince;
    private long _round;
    private long _preparing;
    private bool _stopping;
    private long _refusedReported;
    private RoundStarting? _starting;

    public NodeAgent(AgentOptions options, AgentOutcome outcome, IJobEvents events)
    {
        _options = options;
        _outcome = outcome;
        _events = events;
        _coordinator = Context.ActorSelection(options.CoordinatorPath);
        _coordinatorTimeout = options.CoordinatorTimeout ?? FaultPolicy.DefaultCoordinatorTimeout;
        Registering();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(AgentOptions options, AgentOutcome outcome, IJobEvents events) =>
        Akka.Actor.Props.Create(() => new NodeAgent(options, outcome, events));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        if (JobCoordinator.IsClustered)
        {
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));
            var self = Self;
            cluster.RegisterOnMemberUp(() => self.Tell(new Deadline(RegisterTimer)));
        }
        else
        {
            Self.Tell(new Deadline(RegisterTimer));
        }

        Timers.StartPeriodicTimer(HeartbeatTimer, new Deadline(HeartbeatTimer), HeartbeatInterval);
    }

    protected override void PostStop()
    {
        if (JobCoordinator.IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    // ---- States ----------------------------------------------------------------------------------------------------

    /// <summary>Not in the job (yet, or again): registering every two seconds until accepted.</summary>
    private void Registering()
    {
        Become(() =>
        {
            When(RegisterTimer, () => SendRegistration());
            Receive<AgentAccepted>(accepted => _nonces.Contains(accepted.AgentNonce), OnAccepted);
            Receive<AgentRejected>(OnRejected);
            When(HeartbeatTimer, () => AskWorkers());
            AnswerWorkers(send: null);
            AnswerMembership();
        });
    }

    /// <summary>In the job: everything to and from the coordinator goes through <paramref name="channel"/>.</summary>
    private void Joined(SessionChannel channel, IActorRef coordinator)
    {
        Context.Watch(coordinator);
        void Send(object message) => coordinator.Tell(channel.Seal(message));
        Send(Heartbeat()); // the first sealed message: the coordinator takes this node in now
        Become(() =>
        {
            Receive<SealedMessage>(message =>
            {
                switch (channel.Open(message))
                {
                    case StartRound start:
                        OnStartRound(start);
                        break;
                    case StopRound stop when stop.Round == _round:
                        StopWorkers($"round {stop.Round} ends: {stop.Reason}", stop.Checkpoint);
                        break;
                    case JobEnded ended:
                        OnJobEnded(ended);
                        break;
                    case null:
                        NoteRefused(message, channel);
                        break;
                }
            });
            Receive<RoundPrepared>(prepared => prepared.Start.Round == _preparing, prepared => StartWorkers(prepared.Start, prepared.JobFile, prepared.Output));
            Receive<RoundCheckFailed>(failed => failed.Round == _preparing, failed =>
            {
                _preparing = 0;
                _events.Report($"round {failed.Round}: no worker started: {failed.Reason}");
                Send(new RoundRefused(_options.Node, failed.Round, failed.Reason));
            });
            When(HeartbeatTimer, () =>
            {
                AskWorkers();
                Send(Heartbeat());
            });
            Receive<Terminated>(t => t.ActorRef.Equals(coordinator), _ =>
            {
                Context.Unwatch(coordinator);
                StopWorkers($"the coordinator ({coordinator.Path}) stopped: stopping this node's workers and registering again", checkpoint: false);
                Registering();
                SendRegistration();
            });
            Receive<AgentAccepted>(_ => { }); // answers to earlier registrations of this agent: it is in already
            AnswerWorkers(Send);
            AnswerMembership();
        });
    }

    // ---- Registration ----------------------------------------------------------------------------------------------

    private void SendRegistration()
    {
        if (_outcome.IsCompleted)
        {
            return;
        }

        var registration = _options.Key.Registration(_options.Node, _options.Host, _options.ProcessesPerNode, _options.Threads, _options.Version);
        _nonces.Add(registration.Nonce);
        if (_nonces.Count > PendingRegistrations)
        {
            _nonces.RemoveAt(0);
        }

        _coordinator.Tell(registration);
        Timers.StartSingleTimer(RegisterTimer, new Deadline(RegisterTimer), RegisterInterval);
    }

    private void OnAccepted(AgentAccepted accepted)
    {
        if (_options.Key.Accept(accepted, _options.Node) is not { } channel)
        {
            _log.Warning("dropped an acceptance for node {0} whose proof does not verify (forged, or a coordinator with another token)", _options.Node);
            return;
        }

        Timers.Cancel(RegisterTimer);
        _nonces.Clear();
        _nameRefusedSince = null;
        _coordinatorTimeout = _options.CoordinatorTimeout ?? TimeSpan.FromSeconds(accepted.CoordinatorTimeoutSeconds);
        _events.Report($"node '{_options.Node}' joined job '{accepted.JobName}' (its workers stop {_coordinatorTimeout.TotalSeconds:F0} s after it loses the coordinator)");
        Joined(channel, Sender);
    }

    private void OnRejected(AgentRejected rejected)
    {
        if (!rejected.Retryable)
        {
            Refused(rejected.Reason);
            return;
        }

        var now = Context.System.Scheduler.Now;
        if (_nameRefusedSince is not { } since)
        {
            _nameRefusedSince = now;
            _events.Report($"the coordinator cannot take node '{_options.Node}' in yet: {rejected.Reason}; trying for up to {NameWait.TotalSeconds:F0} s");
        }
        else if (now - since > NameWait)
        {
            Refused($"{rejected.Reason}, and it did not go away within {NameWait.TotalSeconds:F0} s: if another agent runs with that name, give this one its own (sora agent --node NAME)");
        }
    }

    private void Refused(string reason)
    {
        _events.Report($"the coordinator refused node '{_options.Node}': {reason}");
        StopWorkers("refused by the coordinator", checkpoint: false);
        _outcome.Complete(2, $"refused by the coordinator: {reason}");
    }

    // ---- Rounds and workers ----------------------------------------------------------------------------------------

    private void OnStartRound(StartRound start)
    {
        if (_workers.Count > 0)
        {
            // A round we missed the end of: its workers must not train next to the new one.
            StopWorkers($"round {start.Round} starts", checkpoint: false);
            foreach (var worker in _workers.Keys)
            {
                Context.Stop(worker);
            }

            _workers.Clear();
        }

        _round = start.Round;
        _preparing = start.Round;
        _stopping = false;
        _reports.Clear();
        var (node, directory) = (_options.Node, _options.WorkDirectory);
        Task.Run(() => RoundPreflight.Prepare(start, node, directory)).PipeTo(Self,
            success: prepared => new RoundPrepared(start, prepared.JobFile, prepared.Job.Output),
            failure: e => new RoundCheckFailed(start.Round, e.GetBaseException() is RoundCheckException check ? check.Message : $"node '{node}': {e.GetBaseException().Message}"));
    }

    private void StartWorkers(StartRound start, string jobFile, string output)
    {
        _preparing = 0;
        var threads = Math.Max(1, _options.Threads / Math.Max(1, start.Workers.Length));
        foreach (var assignment in start.Workers)
        {
            var placement = new WorkerPlacement(jobFile, assignment.Rank, assignment.LocalRank, start.WorldSize, start.StoreHost, start.StorePort, start.Round, _options.Host, threads);
            var info = WorkerCommandLine.StartInfo(_options.WorkerCommand, placement, start.WorkerArguments);
            var log = Path.Combine(output, "logs", _options.Node, $"round-{start.Round}", $"rank-{assignment.Rank}.log");
            var worker = Context.ActorOf(WorkerProcess.Props(info, assignment.Rank, start.Round, log, _options.StopGrace, _options.Output), $"round-{start.Round}-rank-{assignment.Rank}");
            Context.Watch(worker);
            _workers[worker] = assignment.Rank;
        }

        _starting = new RoundStarting(start, threads, []);
    }

    /// <summary>Says a round's workers started once every one of their processes runs (each may take a moment: they start on <see cref="ProcessStarter"/>'s thread).</summary>
    private void OnProcessStarted(WorkerProcess.ProcessStarted started)
    {
        if (_starting is not { } starting || started.Round != starting.Start.Round || !starting.Started.Add(started.Rank) || starting.Started.Count < starting.Start.Workers.Length)
        {
            return;
        }

        _starting = null;
        var start = starting.Start;
        _events.Report($"round {start.Round}: started rank(s) {string.Join(", ", start.Workers.Select(w => w.Rank))} of {start.WorldSize} ({starting.Threads} thread(s) each)");
    }

    private void OnJobEnded(JobEnded ended)
    {
        StopWorkers("the job ended", checkpoint: false);
        _events.Report($"job ended: {ended.Message}");
        _outcome.Complete(ended.Success ? 0 : 1, ended.Message);
    }

    /// <summary>What the workers tell their agent; <paramref name="send"/> seals it to the coordinator (null: not in the job, so it goes nowhere).</summary>
    private void AnswerWorkers(Action<object>? send)
    {
        Receive<WorkerExited>(exited =>
        {
            var report = exited with { Node = _options.Node };
            _events.Report($"round {exited.Round}: rank {exited.Rank} exited ({report.How}{(exited.Requested ? ", as asked" : "")})");
            send?.Invoke(report);
        });
        Receive<WorkerReport>(report => _reports[report.Rank] = report);
        Receive<WorkerProcess.ProcessStarted>(OnProcessStarted);
        Receive<SampleVideo>(video => send?.Invoke(new SampleVideoWritten(_options.Node, _round, video)));
        Receive<Terminated>(t => _workers.Remove(t.ActorRef));
    }

    private void AnswerMembership()
    {
        When(CoordinatorLostTimer, () => StopWorkers($"the coordinator has been unreachable for {_coordinatorTimeout.TotalSeconds:F0} s: stopping this node's workers", checkpoint: false));
        Receive<ClusterEvent.UnreachableMember>(e => OnReachability(e.Member, reachable: false));
        Receive<ClusterEvent.ReachableMember>(e => OnReachability(e.Member, reachable: true));
        Receive<ClusterEvent.MemberRemoved>(e => OnReachability(e.Member, reachable: false));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    private void AskWorkers()
    {
        foreach (var worker in _workers.Keys)
        {
            worker.Tell(WorkerProcess.ReportRequest.Instance);
        }
    }

    private AgentHeartbeat Heartbeat() => new(_options.Node, _round, [.. _reports.Values.OrderBy(r => r.Rank)]);

    private void OnReachability(Member member, bool reachable)
    {
        if (!member.HasRole(ClusterRoles.Coordinator))
        {
            return;
        }

        if (reachable)
        {
            Timers.Cancel(CoordinatorLostTimer);
            return;
        }

        if (!Timers.IsTimerActive(CoordinatorLostTimer) && _workers.Count > 0)
        {
            _events.Report($"the coordinator ({member.Address}) is unreachable; this node's workers stop in {_coordinatorTimeout.TotalSeconds:F0} s unless it comes back");
            Timers.StartSingleTimer(CoordinatorLostTimer, new Deadline(CoordinatorLostTimer), _coordinatorTimeout);
        }
    }

    private void StopWorkers(string reason, bool checkpoint)
    {
        _preparing = 0;
        _starting = null;
        if (_workers.Count == 0)
        {
            return;
        }

        if (!_stopping || !checkpoint)
        {
            _events.Report(reason);
        }

        _stopping = true;
        foreach (var worker in _workers.Keys)
        {
            worker.Tell(new WorkerProcess.Stop(reason, checkpoint));
        }
    }

    private void NoteRefused(SealedMessage message, SessionChannel channel)
    {
        if (channel.Refused > _refusedReported && (_refusedReported == 0 || channel.Refused >= _refusedReported * 2))
        {
            _events.Report($"dropped a message that did not authenticate ({message.Type} claiming to come from '{message.From}'; {channel.Refused} dropped so far)");
            _refusedReported = channel.Refused;
        }
    }

    private sealed record RoundPrepared(StartRound Start, string JobFile, string Output);

    private sealed record RoundCheckFailed(long Round, string Reason);

    /// <summary>A round whose workers are starting: the ranks whose processes run so far.</summary>
    private sealed record RoundStarting(StartRound Start, int Threads, HashSet<int> Started);

    /// <summary>The states that wait for <paramref name="timer"/> answer it with <paramref name="action"/>.</summary>
    private void When(string timer, Action action) => Receive<Deadline>(d => d.Name == timer, _ => action());

}
