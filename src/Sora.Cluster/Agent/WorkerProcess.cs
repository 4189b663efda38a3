using System.Diagnostics;
using System.Runtime.InteropServices;
using Akka.Actor;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Distributed.Pipelines;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Agent;

/// <summary>
/// One worker process of a round, owned by its agent: starts it, keeps its output in a log file and a tail,
/// follows its <c>@sora</c> progress lines, and reports its exit to the agent. Stopping is graceful (a control
/// line on its stdin: the ranks agree on a step, checkpoint and exit) or not (SIGTERM, then SIGKILL after the
/// grace period). A worker never outlives this actor: its process is killed when the actor stops, and it exits by
/// itself when its stdin closes (the agent died).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor releases its resources in PostStop.")]
public sealed class WorkerProcess : ReceiveActor, IWithTimers
{
    private const int TailLines = 40;

    /// <summary>The largest sample video sent to the coordinator (the control plane's frame limit is above it).</summary>
    public const long MaxSampleBytes = 4_000_000;

    private readonly ProcessStartInfo _start;
    private readonly int _rank;
    private readonly long _round;
    private readonly string _logFile;
    private readonly TimeSpan _grace;
    private readonly Action<int, WorkerMessage>? _output;
    private readonly Queue<string> _tail = new();
    private Process? _process;
    private StreamWriter? _log;
    private DateTime _lastOutput = DateTime.UtcNow;
    private DateTime _lastStepAt = DateTime.UtcNow;
    private string _stage = "";
    private long _step;
    private long _totalSteps;
    private double? _loss;
    private double? _stepSeconds;
    private bool _requested;
    private bool _exited;
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
        Receive<OutputLine>(OnLine);
        Receive<ProcessEnded>(OnEnded);
        Receive<Stop>(OnStop);
        Receive<ReportRequest>(_ => Sender.Tell(Report()));
        Receive<ForceKill>(_ => Signal(9));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The actor of one worker; <paramref name="output"/> (optional) sees each of its <c>@sora</c> messages (see <see cref="AgentOptions.Output"/>).</summary>
    public static Props Props(ProcessStartInfo start, int rank, long round, string logFile, TimeSpan grace, Action<int, WorkerMessage>? output = null) =>
        Akka.Actor.Props.Create(() => new WorkerProcess(start, rank, round, logFile, grace, output));

    protected override void PreStart()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_logFile)!);
        _log = new StreamWriter(_logFile, append: true) { AutoFlush = true };
        _start.RedirectStandardInput = true;
        _start.RedirectStandardOutput = true;
        _start.RedirectStandardError = true;
        _start.UseShellExecute = false;
        _process = Process.Start(_start) ?? throw new InvalidOperationException($"rank {_rank}: could not start {_start.FileName}");
        _lastOutput = DateTime.UtcNow;
        var self = Self;
        var process = _process;
        var stdout = Task.Run(() => Pump(process.StandardOutput, self));
        var stderr = Task.Run(() => Pump(process.StandardError, self));
        Task.WhenAll(process.WaitForExitAsync(), stdout, stderr).ContinueWith(_ => new ProcessEnded(process.ExitCode), TaskScheduler.Default).PipeTo(self);
    }

    protected override void PostStop()
    {
        // No orphaned training: whatever still runs goes with the actor.
        if (_process is { } process && !_exited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }

        _log?.Dispose();
        _process?.Dispose();
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
                Context.Parent.Tell(Report());
                return; // progress snapshots would flood the log
            }

            if (message.Status is { } status)
            {
                text = status;
            }
        }

        _log?.WriteLine(text);
        _tail.Enqueue(text);
        if (_tail.Count > TailLines)
        {
            _tail.Dequeue();
        }
    }

    private void OnEnded(ProcessEnded ended)
    {
        _exited = true;
        Context.Parent.Tell(new WorkerExited("", _round, _rank, ended.ExitCode, _requested, string.Join("\n", _tail), _logFile) { Stopped = _stopped });
        Context.Stop(Self);
    }

    private void OnStop(Stop stop)
    {
        if (_exited || _process is null)
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
            Signal(9);
            return;
        }

        Signal(15);
        Timers.StartSingleTimer("kill", ForceKill.Instance, _grace);
    }

    private void Signal(int signal)
    {
        if (_exited || _process is null)
        {
            return;
        }

        if (signal == 9)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            return;
        }

        _ = kill(_process.Id, signal);
    }

    private WorkerReport Report()
    {
        var pid = _process?.Id ?? 0;
        var state = _exited ? "exited" : IsStopped(pid) ? "stopped" : "running";
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
                _log?.WriteLine($"sample {sample.Path} is {size / 1e6:F1} MB, over the {MaxSampleBytes / 1e6:F0} MB the dashboard takes: not sent");
                return;
            }

            Context.Parent.Tell(new SampleVideo(sample.Index, sample.Prompt, sample.Step, "video/mp4", File.ReadAllBytes(sample.Path)));
        }
        catch (IOException e)
        {
            _log?.WriteLine($"sample {sample.Path} could not be read for the dashboard: {e.Message}");
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

    /// <summary>Asks for a <see cref="WorkerReport"/>.</summary>
    public sealed record ReportRequest
    {
        public static readonly ReportRequest Instance = new();
    }

    private sealed record OutputLine(string Text);

    private sealed record ProcessEnded(int ExitCode);

    private sealed record ForceKill
    {
        public static readonly ForceKill Instance = new();
    }
}
