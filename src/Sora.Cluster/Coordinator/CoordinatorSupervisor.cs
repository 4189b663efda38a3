using Akka.Actor;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The coordinator's parent, at <c>/user/coordinator</c>: it forwards everything to the current <see cref="JobCoordinator"/>
/// incarnation (its child) and holds its supervision rule.
/// <para>
/// Supervision (deliberate, not Akka's default restart): an incarnation that throws is <b>stopped</b>, and after
/// <see cref="RestartDelay"/> a <b>new</b> one starts, which reads the checkpoint store again and numbers its rounds after
/// the fenced one. A restart in place would keep the actor's reference, so no agent could tell that the coordinator lost
/// what it knew (its agents, its round) and the job would wait forever; a new incarnation is a new reference, the agents'
/// death watch fires, they stop the old round's workers and register again. Messages that arrive in between wait here.
/// Incarnations share the restart budget and the metrics. More than <see cref="MaxFailures"/> failures within
/// <see cref="FailureWindow"/> end the job with the last error: a coordinator that fails on every start must not loop.
/// </para>
/// <para>
/// Its own parent is the user guardian, with Akka's default restart: a restarted supervisor stops its incarnation and
/// starts a new one, which is the rule above again (it holds nothing else a restart would lose but the failure count).
/// </para>
/// </summary>
public sealed class CoordinatorSupervisor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>The pause before a new incarnation starts.</summary>
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);

    /// <summary>The window failures are counted in.</summary>
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(1);

    /// <summary>Failures tolerated within <see cref="FailureWindow"/>.</summary>
    public const int MaxFailures = 3;

    private const string StartAgainTimer = "start-again";

    private readonly Props _incarnation;
    private readonly JobOutcome _outcome;
    private readonly IJobEvents _events;
    private readonly List<DateTimeOffset> _failures = [];
    private IActorRef? _current;
    private Exception? _lastFailure;
    private int _started;

    public CoordinatorSupervisor(Props incarnation, JobOutcome outcome, IJobEvents events)
    {
        _incarnation = incarnation;
        _outcome = outcome;
        _events = events;
        Receive<Terminated>(t => t.ActorRef.Equals(_current), _ => OnIncarnationStopped());
        When(StartAgainTimer, () => StartIncarnation());
        ReceiveAny(message =>
        {
            if (_current is null)
            {
                Stash.Stash();
            }
            else
            {
                _current.Forward(message);
            }
        });
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The supervisor of incarnations made from <paramref name="incarnation"/>.</summary>
    public static Props Props(Props incarnation, JobOutcome outcome, IJobEvents events) =>
        Akka.Actor.Props.Create(() => new CoordinatorSupervisor(incarnation, outcome, events));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(cause =>
    {
        _lastFailure = cause;
        return Directive.Stop;
    });

    protected override void PreStart() => StartIncarnation();

    private void StartIncarnation()
    {
        _current = Context.Watch(Context.ActorOf(_incarnation, $"job-{++_started}"));
        Stash.UnstashAll();
    }

    /// <summary>Answers <paramref name="timer"/> with <paramref name="action"/>.</summary>
    private void When(string timer, Action action) => Receive<Deadline>(d => d.Name == timer, _ => action());

    private void OnIncarnationStopped()
    {
        _current = null;
        if (_outcome.Task.IsCompleted)
        {
            return;
        }

        var now = Context.System.Scheduler.Now;
        _failures.RemoveAll(t => now - t > FailureWindow);
        _failures.Add(now);
        var error = _lastFailure is { } e ? $"{e.GetType().Name}: {e.Message}" : "it stopped";
        if (_failures.Count > MaxFailures)
        {
            var message = $"the coordinator failed {_failures.Count} times within {FailureWindow.TotalSeconds:F0} s; last: {error}";
            _events.Report(message);
            _outcome.Complete(false, message);
            Context.Stop(Self);
            return;
        }

        _events.Report($"the coordinator failed ({error}); a new one starts from the checkpoint store in {RestartDelay.TotalSeconds:F0} s and its agents register again");
        Timers.StartSingleTimer(StartAgainTimer, new Deadline(StartAgainTimer), RestartDelay);
    }
}
