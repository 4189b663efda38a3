using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Distributed.Configuration;

namespace Sora.Cluster.Agent;

/// <summary>
/// The agent of one node: registers with the coordinator, starts this node's workers for each round (one
/// <see cref="WorkerProcess"/> child per local rank), relays their state about once a second and their exits at
/// once, stops them when told, and stops them by itself when the coordinator has been unreachable for longer than
/// the coordinator timeout (the side of a partition without the coordinator must not train on).
/// <para>
/// Supervision: a <see cref="WorkerProcess"/> that throws is stopped, never restarted (its process dies with it),
/// and the agent reports that rank as failed; the coordinator then ends the round. Workers are restarted only as a
/// whole new round.
/// </para>
/// </summary>
public sealed class NodeAgent : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name.</summary>
    public const string Name = "agent";

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RegisterInterval = TimeSpan.FromSeconds(2);

    private readonly AgentOptions _options;
    private readonly AgentOutcome _outcome;
    private readonly IJobEvents _events;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, int> _workers = [];
    private readonly Dictionary<int, WorkerReport> _reports = [];
    private ActorSelection _coordinator;
    private IActorRef? _coordinatorRef;
    private bool _accepted;
    private long _round;
    private bool _stopping;

    public NodeAgent(AgentOptions options, AgentOutcome outcome, IJobEvents events)
    {
        _options = options;
        _outcome = outcome;
        _events = events;
        _coordinator = Context.ActorSelection(options.CoordinatorPath);

        Receive<Register>(_ => SendRegistration());
        Receive<AgentAccepted>(OnAccepted);
        Receive<AgentRejected>(OnRejected);
        Receive<StartRound>(OnStartRound);
        Receive<StopRound>(OnStopRound);
        Receive<JobEnded>(OnJobEnded);
        Receive<WorkerExited>(OnWorkerExited);
        Receive<WorkerReport>(r => _reports[r.Rank] = r);
        Receive<SampleVideo>(video => Tell(new SampleVideoWritten(_options.Node, _round, video)));
        Receive<Heartbeat>(_ => OnHeartbeat());
        Receive<CoordinatorLost>(_ => StopWorkers($"the coordinator has been unreachable for {_options.CoordinatorTimeout.TotalSeconds:F0} s: stopping this node's workers", checkpoint: false));
        Receive<ClusterEvent.UnreachableMember>(e => OnReachability(e.Member, reachable: false));
        Receive<ClusterEvent.ReachableMember>(e => OnReachability(e.Member, reachable: true));
        Receive<ClusterEvent.MemberRemoved>(e => OnReachability(e.Member, reachable: false));
        Receive<Terminated>(t => _workers.Remove(t.ActorRef));
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
            cluster.RegisterOnMemberUp(() => self.Tell(Register.Instance));
        }
        else
        {
            Self.Tell(Register.Instance);
        }

        Timers.StartPeriodicTimer("heartbeat", Heartbeat.Instance, HeartbeatInterval);
    }

    protected override void PostStop()
    {
        if (JobCoordinator.IsClustered)
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    private void SendRegistration()
    {
        if (_accepted || _outcome.IsCompleted)
        {
            return;
        }

        _coordinator.Tell(new RegisterAgent(_options.Node, _options.Host, _options.ProcessesPerNode, _options.Threads, _options.TokenDigest, _options.Version, Self));
        Timers.StartSingleTimer("register", Register.Instance, RegisterInterval);
    }

    private void OnAccepted(AgentAccepted accepted)
    {
        if (!_accepted)
        {
            _events.Report($"node '{_options.Node}' joined job '{accepted.JobName}'");
        }

        _accepted = true;
        _coordinatorRef = Sender;
        Timers.Cancel("register");
    }

    private void OnRejected(AgentRejected rejected)
    {
        if (!rejected.Retryable)
        {
            _events.Report($"the coordinator refused node '{_options.Node}': {rejected.Reason}");
            _outcome.Complete(2, $"refused by the coordinator: {rejected.Reason}");
        }
        else
        {
            _log.Info("registration refused for now: {0}", rejected.Reason);
        }
    }

    private void OnStartRound(StartRound start)
    {
        _coordinatorRef = Sender;
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
        _stopping = false;
        _reports.Clear();
        var job = JobConfig.Parse(start.JobYaml, $"job '{start.JobName}' (sent by the coordinator)");
        var jobFile = Path.Combine(_options.WorkDirectory, $"{start.JobName}.yaml");
        Directory.CreateDirectory(_options.WorkDirectory);
        File.WriteAllText(jobFile, start.JobYaml);
        var threads = Math.Max(1, _options.Threads / Math.Max(1, start.Workers.Length));
        foreach (var assignment in start.Workers)
        {
            var placement = new WorkerPlacement(jobFile, assignment.Rank, assignment.LocalRank, start.WorldSize, start.StoreHost, start.StorePort, start.Round, _options.Host, threads);
            var info = WorkerCommandLine.StartInfo(_options.WorkerCommand, placement, start.WorkerArguments);
            var log = Path.Combine(job.Output, "logs", _options.Node, $"round-{start.Round}", $"rank-{assignment.Rank}.log");
            var worker = Context.ActorOf(WorkerProcess.Props(info, assignment.Rank, start.Round, log, _options.StopGrace, _options.Output), $"round-{start.Round}-rank-{assignment.Rank}");
            Context.Watch(worker);
            _workers[worker] = assignment.Rank;
        }

        _events.Report($"round {start.Round}: started rank(s) {string.Join(", ", start.Workers.Select(w => w.Rank))} of {start.WorldSize} ({threads} thread(s) each)");
    }

    private void OnStopRound(StopRound stop)
    {
        if (stop.Round == _round)
        {
            StopWorkers($"round {stop.Round} ends: {stop.Reason}", stop.Checkpoint);
        }
    }

    private void OnJobEnded(JobEnded ended)
    {
        StopWorkers("the job ended", checkpoint: false);
        _events.Report($"job ended: {ended.Message}");
        _outcome.Complete(ended.Success ? 0 : 1, ended.Message);
    }

    private void OnWorkerExited(WorkerExited exited)
    {
        var report = exited with { Node = _options.Node };
        _events.Report($"round {exited.Round}: rank {exited.Rank} exited ({report.How}{(exited.Requested ? ", as asked" : "")})");
        Tell(report);
    }

    private void OnHeartbeat()
    {
        foreach (var worker in _workers.Keys)
        {
            worker.Tell(WorkerProcess.ReportRequest.Instance);
        }

        if (_accepted)
        {
            Tell(new AgentHeartbeat(_options.Node, _round, _reports.Values.OrderBy(r => r.Rank).ToArray()));
        }
    }

    private void OnReachability(Member member, bool reachable)
    {
        if (!member.HasRole(ClusterRoles.Coordinator))
        {
            return;
        }

        if (reachable)
        {
            Timers.Cancel("coordinator-lost");
            return;
        }

        if (!Timers.IsTimerActive("coordinator-lost") && _workers.Count > 0)
        {
            _events.Report($"the coordinator ({member.Address}) is unreachable; this node's workers stop in {_options.CoordinatorTimeout.TotalSeconds:F0} s unless it comes back");
            Timers.StartSingleTimer("coordinator-lost", CoordinatorLost.Instance, _options.CoordinatorTimeout);
        }
    }

    private void StopWorkers(string reason, bool checkpoint)
    {
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

    private void Tell(object message)
    {
        if (_coordinatorRef is not null)
        {
            _coordinatorRef.Tell(message);
        }
        else
        {
            _coordinator.Tell(message);
        }
    }

    private sealed record Register
    {
        public static readonly Register Instance = new();
    }

    private sealed record Heartbeat
    {
        public static readonly Heartbeat Instance = new();
    }

    private sealed record CoordinatorLost
    {
        public static readonly CoordinatorLost Instance = new();
    }
}
