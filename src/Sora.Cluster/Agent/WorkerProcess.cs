using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Actor;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Distributed.Pipelines;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Agent;

/// <summary>
/// One worker process of a round, owned by its agent: starts it, keeps its output in a log file and a tail, follows its
/// <c>@sora</c> progress lines, and reports its exit to the agent. Stopping is graceful (a control line on its stdin: the
/// ranks agree on a step, checkpoint and exit) or not (SIGTERM, then SIGKILL after the grace period).
/// <para>
/// Every way a worker ends reaches the agent at once as one <see cref="WorkerExited"/>: its process exits; it cannot be
/// started (exit code 127); or this actor fails or is stopped while the process runs (the process is killed, exit code
/// 137, with the actor's error in the log tail). A worker never outlives this actor, and dies with the agent's process
/// even when it is stopped (SIGSTOP): it is started with <see cref="WorkerLifetime.ParentPidVariable"/> set, binds itself
/// to this process with <c>PR_SET_PDEATHSIG</c>, and exits when its stdin (this actor's pipe) closes.
/// </para>
/// <para>
/// Nothing here blocks the actor's thread on disk or process I/O: the process starts on <see cref="ProcessStarter"/>'s
/// thread, its output is read by two tasks, its log is written by <see cref="WorkerLog"/>'s. (Reading its state from
/// /proc is a read of kernel memory.)
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor releases its resources in PostStop.")]
public sealed class WorkerProcess : ReceiveActor, IWithTimers
{
    /// <summary>The exit code reported when the process could not be started (as a shell reports a command it cannot run).</summary>
    public const int NotStartedExitCode = 127;

    /// <summary>The exit code reported when this actor killed a process that still ran because the actor itself failed or was stopped.</summary>
    public const int KilledExitCode = 128 + 9;

    /// <summary>The largest sample video sent to the coordinator (the control plane's frame limit is above it).</summary>
    public const long MaxSampleBytes = 4_000_000;

    private const string KillTimer = "kill";
    private const int TailLines = 40;

    private readonly ProcessStartInfo _start;
    private readonly int _rank;
    private readonly long _round;
    private readonly string _logFile;
    private readonly TimeSpan _grace;
    private readonly Action<int, WorkerMessage>? _output;
    private readonly Queue<string> _tail = new();
    private readonly Launch _launch = new();
    private Process? _process;
    private WorkerLog? _log;
    private DateTime _lastOutput = DateTime.UtcNow;
    private DateTime _lastStepAt = DateTime.UtcNow;
    private string _stage = "";
    private long _step;
    private long _totalSteps;
    private double? _loss;
    private double? _stepSeconds;
    private bool _requested;
    private Stop? _pendingStop;
    private bool _reported;
    private string? _error;
    private Exception? _failure;
    private WorkerStopped? _stopped;
    private RankMetrics? _metrics;

    public WorkerProcess(ProcessStartInfo start, int rank, long round, string logFile, TimeSpan grace, Action<int, WorkerMessage>? output = null)
    {
        _output = output;
        _start = start;
        _rank = rank;
        _round = round;
        _logFile = logFile;
        _grace = grace;
        Starting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The actor of one worker; <paramref name="output"/> (optional) sees each of its <c>@sora</c> messages (see <see cref="AgentOptions.Output"/>).</summary>
    public static Props Props(ProcessStartInfo start, int rank, long round, string logFile, TimeSpan grace, Action<int, WorkerMessage>? output = null) =>
        Akka.Actor.Props.Create(() => new WorkerProcess(start, rank, round, logFile, grace, output));

    protected override void PreStart()
    {
        _start.RedirectStandardInput = true;
        _start.RedirectStandardOutput = true;
        _start.RedirectStandardError = true;
        _start.UseShellExecute = false;
        _start.Environment[WorkerLifetime.ParentPidVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var start = _start;
        var logFile = _logFile;
        var launch = _launch;
        Task.Run(async () =>
        {
            var log = WorkerLog.Open(logFile);
            try
            {
                var process = await ProcessStarter.StartAsync(start).ConfigureAwait(false);
                launch.Started(process);
                return new Started(process, log);
            }
            catch
            {
                log.Complete();
                throw;
            }
        }).PipeTo(Self, success: started => started, failure: e => new StartFailed(e.GetBaseException()));
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e)
        {
            _failure = e;
            throw;
        }
    }

    protected override void PostStop()
    {
        // No orphaned training: whatever still runs goes with the actor (a process that starts later is killed by the
        // starting task), and the agent hears of it now.
        var process = _launch.Stop();
        var killed = !_reported && process is not null && Kill(process);
        if (!_reported)
        {
            var why = _failure is { } f ? $"the agent's watcher of rank {_rank} failed ({f.GetType().Name}: {f.Message})" : $"the agent stopped watching rank {_rank}";
            Report(process is null ? NotStartedExitCode : KilledExitCode, $"{why}{(killed ? "; its process was killed" : "")}");
        }

        _log?.Complete();
        process?.Dispose();
    }

    /// <summary>Waiting for the process to start: a stop asked for meanwhile is applied once it runs.</summary>
    private void Starting()
    {
        Receive<Started>(OnStarted);
        Receive<StartFailed>(failed =>
        {
            Report(NotStartedExitCode, $"rank {_rank} could not be started: {failed.Error.Message}");
            Context.Stop(Self);
        });
        Receive<Stop>(stop =>
        {
            _requested = true;
            _pendingStop = stop;
        });
        Receive<ReportRequest>(_ => Sender.Tell(Snapshot()));
    }

    /// <summary>The process runs: its output, its end, stops and reports.</summary>
    private void Running()
    {
        Become(() =>
        {
            Receive<OutputLine>(OnLine);
            Receive<ProcessEnded>(OnEnded);
            Receive<Stop>(OnStop);
            Receive<ReportRequest>(_ => Sender.Tell(Snapshot()));
            When(KillTimer, () => Kill(_process!));
        });
    }

    private void OnStarted(Started started)
    {
        _process = started.Process;
        _log = started.Log;
        _lastOutput = DateTime.UtcNow;
        var self = Self;
        var process = started.Process;
        var stdout = Task.Run(() => Pump(process.StandardOutput, self));
        var stderr = Task.Run(() => Pump(process.StandardError, self));
        Task.WhenAll(process.WaitForExitAsync(), stdout, stderr).ContinueWith(_ => new ProcessEnded(process.ExitCode), TaskScheduler.Default).PipeTo(self);
        Context.Parent.Tell(new ProcessStarted(_rank, _round, process.Id));
        Running();
        if (_pendingStop is { } stop)
        {
            OnStop(stop);
        }
    }

    private static void Pump(StreamReader reader, IActorRef self)
    {
        while (reader.ReadLine() is { } line)
        {
            self.Tell(new OutputLine(line));
        }
    }

    private void OnLine(OutputLine line)
    {
        _lastOutput = DateTime.UtcNow;
        var text = line.Text;
        if (WorkerMessages.Parse(text) is { } message)
        {
            _output?.Invoke(_rank, message);
            if (message.Stopped is { } stopped)
            {
                _stopped = stopped;
            }

            if (message.Metrics is { } metrics)
            {
                _metrics = metrics;
                return;
            }

            if (message.Sample is { } sample)
            {
                SendSample(sample);
                return;
            }

            if (message.Progress is { } p)
            {
                // The step time is smoothed over the steps between reports (a resumed stage starts mid-way).
                var now = DateTime.UtcNow;
                if (p.Name == _stage && p.Step > _step)
                {
                    var seconds = (now - _lastStepAt).TotalSeconds / (p.Step - _step);
                    _stepSeconds = _stepSeconds is { } s ? (0.8 * s) + (0.2 * seconds) : seconds;
                }

                _lastStepAt = now;
                _stage = p.Name;
                _step = p.Step;
                _totalSteps = p.TotalSteps;
                _loss = p.Loss;

                // Pushed at once, so the agent's next heartbeat carries the step the rank is at, not the one of a tick ago.
                Context.Parent.Tell(Snapshot());
                return; // progress snapshots would flood the log
            }

            if (message.Error is { } error)
            {
                _error = error;
                text = "error: " + error;
            }
            else if (message.Status is { } status)
            {
                text = status;
            }
        }

        _log?.Write(text);
        _tail.Enqueue(text);
        if (_tail.Count > TailLines)
        {
            _tail.Dequeue();
        }
    }

    private void OnEnded(ProcessEnded ended)
    {
        Report(ended.ExitCode, null);
        Context.Stop(Self);
    }

    private void OnStop(Stop stop)
    {
        if (_reported || _process is null)
        {
            return;
        }

        _requested = true;
        if (stop.Checkpoint)
        {
            try
            {
                _process.StandardInput.WriteLine(WorkerMessages.Format(new WorkerControl { Stop = stop.Reason }));
                _process.StandardInput.Flush();
                return;
            }
            catch (IOException)
            {
                // Its stdin is gone: it is exiting anyway; terminate below.
            }
        }

        // A stopped (SIGSTOPped) process cannot act on SIGTERM: no grace period for it.
        if (IsStopped(_process.Id))
        {
            Kill(_process);
            return;
        }

        _ = kill(_process.Id, 15);
        Timers.StartSingleTimer(KillTimer, new Deadline(KillTimer), _grace);
    }

    private static bool Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // exited meanwhile
        }
    }

    /// <summary>Tells the agent this worker ended (once).</summary>
    private void Report(int exitCode, string? agentNote)
    {
        if (_reported)
        {
            return;
        }

        _reported = true;
        if (agentNote is not null)
        {
            _tail.Enqueue(agentNote);
            _log?.Write(agentNote);
        }

        Context.Parent.Tell(new WorkerExited("", _round, _rank, exitCode, _requested, string.Join("\n", _tail), _logFile) { Stopped = _stopped, Error = _error });
    }

    private WorkerReport Snapshot()
    {
        var pid = _process?.Id ?? 0;
        var state = _reported ? "exited" : _process is null ? "starting" : IsStopped(pid) ? "stopped" : "running";
        long resident = 0;
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Refresh();
                resident = p.WorkingSet64;
            }
        }
        catch (InvalidOperationException)
        {
        }

        return new WorkerReport(_rank, pid, state, _stage, _step, _totalSteps, (DateTime.UtcNow - _lastOutput).TotalSeconds, _loss, _stepSeconds, resident) { Metrics = _metrics };
    }

    /// <summary>Hands a sample video the worker wrote to the agent (for the coordinator's dashboard); one too large for the control plane is only logged.</summary>
    private void SendSample(SampleFile sample)
    {
        try
        {
            var size = new FileInfo(sample.Path).Length;
            if (size > MaxSampleBytes)
            {
                _log?.Write($"sample {sample.Path} is {size / 1e6:F1} MB, over the {MaxSampleBytes / 1e6:F0} MB the dashboard takes: not sent");
                return;
            }

            Context.Parent.Tell(new SampleVideo(sample.Index, sample.Prompt, sample.Step, "video/mp4", File.ReadAllBytes(sample.Path)));
        }
        catch (IOException e)
        {
            _log?.Write($"sample {sample.Path} could not be read for the dashboard: {e.Message}");
        }
    }

    /// <summary>Whether the process is stopped by a signal (state T in /proc/PID/stat).</summary>
    private static bool IsStopped(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is 'T' or 't';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc's kill: there is no managed way to send SIGTERM.
    private static extern int kill(int pid, int signal);
#pragma warning restore CA5392, SYSLIB1054

    /// <summary>End the worker: gracefully (checkpoint first) or by SIGTERM.</summary>
    public sealed record Stop(string Reason, bool Checkpoint);

    /// <summary>Told to the parent once the worker's process runs (its rank, round and pid).</summary>
    public sealed record ProcessStarted(int Rank, long Round, int Pid);

    /// <summary>Asks for a <see cref="WorkerReport"/>.</summary>
    public sealed record ReportRequest
    {
        public static readonly ReportRequest Instance = new();
    }

    private sealed record Started(Process Process, WorkerLog Log);

    /// <summary>The process as the starting task and the actor's end both see it: whichever comes second kills it.</summary>
    private sealed class Launch
    {
        private readonly Lock _gate = new();
        private Process? _process;
        private bool _stopped;

        public void Started(Process process)
        {
            lock (_gate)
            {
                _process = process;
                if (!_stopped)
                {
                    return;
                }
            }

            WorkerProcess.Kill(process);
        }

        public Process? Stop()
        {
            lock (_gate)
            {
                _stopped = true;
                return _process;
            }
        }
    }

    private sealed record StartFailed(Exception Error);

    private sealed record OutputLine(string Text);

    private sealed record ProcessEnded(int ExitCode);

    /// <summary>The states that wait for <paramref name="timer"/> answer it with <paramref name="action"/>.</summary>
    private void When(string timer, Action action) => Receive<Deadline>(d => d.Name == timer, _ => action());

}
