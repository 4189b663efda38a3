using Sora.Metrics.Exposition;
using Sora.Metrics.Pipeline;

namespace Sora.Metrics.Job;

/// <summary>
/// The job's aggregated metrics: the one source of truth that <c>/metrics</c>, the dashboard's API and
/// <c>sora status</c> read. The coordinator <see cref="Publish"/>es its status and the ranks' latest
/// <see cref="RankMetrics"/> about once a second; this turns the ranks' per-process counters into job counters that
/// survive restarts, keeps a bounded history of steps (thinned, never cut, so a long run stays visible end to end),
/// the checkpoints, the rounds, the latest sample video per prompt, and flags stragglers. Thread-safe: one writer
/// (the coordinator actor), any number of readers (HTTP requests).
/// </summary>
public sealed class JobMetrics
{
    private readonly object _gate = new();
    private readonly JobExporter _exporter;
    private readonly int _historyCapacity;
    private readonly List<HistoryPoint> _history = [];
    // Ordered by stage in training order, then step: every stage numbers its steps from 1.
    private readonly SortedDictionary<(int Stage, long Step), CheckpointView> _checkpoints = [];
    private readonly Dictionary<(string Stage, long Step, int Rank), (long Bytes, double Seconds)> _savedShards = [];
    private readonly List<RoundView> _rounds = [];
    private readonly Dictionary<int, (SampleView View, byte[] Data)> _samples = [];
    private readonly Dictionary<int, RankCursor> _cursors = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobStatus? _status;
    private RankView[] _ranks = [];
    private JobView? _job;
    private long _version;
    private int _thinning = 1;
    private long _stepsTotal;
    private long _samplesTotal;
    private long _tokensTotal;
    private long _nonFiniteTotal;
    private long _lastHistoryStep = -1;
    private string _lastHistoryStage = "";

    /// <param name="info">What does not change while the job runs.</param>
    /// <param name="stragglerRatio">A rank whose busy time per step is at least this multiple of the others' median is a straggler.</param>
    /// <param name="historyCapacity">History points kept; when full, every other point goes and later points are kept at half the rate.</param>
    public JobMetrics(JobInfo info, double stragglerRatio = 1.5, int historyCapacity = 4096)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (stragglerRatio <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(stragglerRatio), $"the straggler ratio must be above 1 (got {stragglerRatio})");
        }

        Info = info;
        StragglerRatio = stragglerRatio;
        _historyCapacity = Math.Max(16, historyCapacity);
        _exporter = new JobExporter(info);
    }

    public JobInfo Info { get; }

    public double StragglerRatio { get; }

    /// <summary>The Prometheus exposition of this state.</summary>
    public JobExporter Exporter => _exporter;

    /// <summary>Goes up by one with every publish (the dashboard's event stream sends it).</summary>
    public long Version
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    /// <summary>The coordinator's latest status (null before its first publish).</summary>
    public JobStatus? Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>The job as a whole (null before the first publish).</summary>
    public JobView? Job
    {
        get
        {
            lock (_gate)
            {
                return _job;
            }
        }
    }

    /// <summary>The ranks of the current (or last) round.</summary>
    public IReadOnlyList<RankView> Ranks
    {
        get
        {
            lock (_gate)
            {
                return _ranks;
            }
        }
    }

    /// <summary>The checkpoints seen, oldest first.</summary>
    public IReadOnlyList<CheckpointView> Checkpoints
    {
        get
        {
            lock (_gate)
            {
                return [.. _checkpoints.Values];
            }
        }
    }

    /// <summary>The latest sample video per prompt.</summary>
    public IReadOnlyList<SampleView> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples.Values.Select(s => s.View).OrderBy(s => s.Index)];
            }
        }
    }

    /// <summary>History points after <paramref name="afterTime"/> (Unix seconds; 0: all).</summary>
    public IReadOnlyList<HistoryPoint> History(double afterTime = 0)
    {
        lock (_gate)
        {
            return [.. _history.Where(h => h.Time > afterTime)];
        }
    }

    /// <summary>A sample's video bytes and content type, or null.</summary>
    public (byte[] Data, string ContentType)? SampleData(int index)
    {
        lock (_gate)
        {
            return _samples.TryGetValue(index, out var s) ? (s.Data, s.View.ContentType) : null;
        }
    }

    /// <summary>Completes at the next publish after <paramref name="version"/> (at once when it already happened).</summary>
    public Task WaitForChangeAsync(long version, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _version > version ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Keeps the latest video of a sample's prompt.</summary>
    public void AddSample(SampleVideo video, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(video);
        lock (_gate)
        {
            var view = new SampleView(video.Index, video.Prompt, "dit", video.Step, at, video.Data.LongLength, video.ContentType,
                $"/api/samples/{video.Index}/video?step={video.Step}");
            _samples[video.Index] = (view, video.Data);
        }

        Changed();
    }

    /// <summary>The coordinator's state at <paramref name="now"/>, with each rank's latest metrics.</summary>
    public void Publish(JobStatus status, IReadOnlyList<RankReport> reports, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(reports);
        lock (_gate)
        {
            var byRank = reports.ToDictionary(r => r.Rank);
            NoteRound(status, now);
            var deltas = new List<RankDelta>();
            foreach (var report in reports)
            {
                deltas.Add(Advance(report));
            }

            var ranks = RankViews(status, byRank);
            var rankZero = byRank.GetValueOrDefault(0)?.Metrics;
            if (rankZero is not null)
            {
                AddHistory(rankZero, ranks, now);
            }

            foreach (var report in reports)
            {
                NoteCheckpoints(report, status.CheckpointStore);
            }

            if (status.LastCheckpoint is { Step: > 0 } last)
            {
                var key = Key(last.Stage, last.Step);
                var known = _checkpoints.GetValueOrDefault(key);
                _checkpoints[key] = (known ?? new CheckpointView(last.Stage, last.Step, 0, 0, null, status.CheckpointStore)) with { CommittedAt = known?.CommittedAt ?? last.CommittedAt };
            }

            // The coordinator reads the store's latest pointer when a round starts; rank 0 reports every commit since.
            var committed = _checkpoints.LastOrDefault(c => c.Value.CommittedAt is not null);
            if (committed.Value is { } newest && (status.LastCheckpoint is not { } reported || committed.Key.CompareTo(Key(reported.Stage, reported.Step)) > 0))
            {
                status = status with { LastCheckpoint = new CommittedCheckpoint(newest.Step, status.Round, newest.CommittedAt) { Stage = newest.Stage } };
            }

            _status = status;
            _ranks = ranks;
            _job = JobOf(status, ranks, rankZero);
            _exporter.Update(_job, ranks, byRank, deltas, [.. _checkpoints.Values.Where(c => c.CommittedAt is not null).GroupBy(c => c.Stage).Select(g => g.Last())]);
            _version++;
        }

        Changed();
    }

    private void Changed()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private void NoteRound(JobStatus status, DateTimeOffset now)
    {
        var current = _rounds.Count > 0 ? _rounds[^1] : null;
        var running = status.Round > 0 && status.WorldSize > 0;
        if (running && (current is null || current.Round != status.Round))
        {
            if (current is not null && current.State != RoundStates.Ended)
            {
                _rounds[^1] = Ended(current, status, now, "re-formed");
            }

            _rounds.Add(new RoundView(status.Round, status.WorldSize, now, null, null));
            return;
        }

        if (current is null || current.State == RoundStates.Ended || current.Round != status.Round)
        {
            return;
        }

        // The coordinator says a round is over before the next one starts: ending while its workers stop, ended once no
        // round runs (WorldSize 0), or when the job is over.
        if (!running || status.State is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped)
        {
            _rounds[^1] = Ended(current, status, now, status.State is JobStates.Succeeded or JobStates.Failed or JobStates.Stopped ? status.State : "ended");
        }
        else if (status.State is JobStates.Restarting or JobStates.Stopping && current.State == RoundStates.Running)
        {
            var cause = status.Restarts.LastOrDefault(r => r.Round == current.Round);
            _rounds[^1] = current with { State = RoundStates.Ending, EndCause = cause is null ? status.Message : $"{cause.Kind}: {cause.Cause}" };
        }
    }

    private static RoundView Ended(RoundView round, JobStatus status, DateTimeOffset now, string fallback)
    {
        var cause = status.Restarts.LastOrDefault(r => r.Round == round.Round);
        return round with
        {
            State = RoundStates.Ended,
            EndedAt = cause?.At ?? now,
            EndCause = cause is not null ? $"{cause.Kind}: {cause.Cause}" : round.EndCause ?? fallback,
        };
    }

    // A rank's counters are cumulative per process: a new process (pid) or a smaller value starts them again.
    private RankDelta Advance(RankReport report)
    {
        var m = report.Metrics;
        if (!_cursors.TryGetValue(report.Rank, out var cursor) || cursor.Pid != report.Pid)
        {
            cursor = new RankCursor(report.Pid, new RankMetrics(), -1);
        }

        var previous = cursor.Last;
        static double Delta(double now, double before) => now >= before ? now - before : now;
        var newSteps = new List<double>();

        // Steps are numbered per stage: a new stage starts from step 1 again.
        var lastObserved = m.Stage == previous.Stage ? cursor.LastObservedStep : -1;
        for (var i = 0; i < m.RecentSteps.Length && i < m.RecentStepSeconds.Length; i++)
        {
            if (m.RecentSteps[i] > lastObserved)
            {
                newSteps.Add(m.RecentStepSeconds[i]);
            }
        }

        if (m.RecentSteps.Length > 0)
        {
            lastObserved = m.RecentSteps[^1];
        }

        _cursors[report.Rank] = new RankCursor(report.Pid, m, lastObserved);
        var delta = new RankDelta(
            report.Rank,
            (long)Delta(m.StepsTotal, previous.StepsTotal),
            (long)Delta(m.SamplesTotal, previous.SamplesTotal),
            (long)Delta(m.TokensTotal, previous.TokensTotal),
            (long)Delta(m.NonFiniteStepsTotal, previous.NonFiniteStepsTotal),
            Delta(m.DataWaitSecondsTotal, previous.DataWaitSecondsTotal),
            (long)Delta(m.CheckpointSavesTotal, previous.CheckpointSavesTotal),
            [.. newSteps]);
        if (report.Rank == 0)
        {
            // Every rank counts the global batch: the job's counters follow rank 0.
            _stepsTotal += delta.Steps;
            _samplesTotal += delta.Samples;
            _tokensTotal += delta.Tokens;
        }

        _nonFiniteTotal += delta.NonFiniteSteps;
        return delta;
    }

    private RankView[] RankViews(JobStatus status, Dictionary<int, RankReport> byRank)
    {
        double Busy(RankMetrics m) => m.BusySeconds > 0 ? m.BusySeconds : Math.Max(0, m.StepSeconds - m.CommunicationSeconds);
        var busy = status.Ranks.Select(r => byRank.TryGetValue(r.Rank, out var rep) && rep.Metrics.StepsTotal > 0 ? Busy(rep.Metrics) : double.NaN).ToArray();

        // The median of the others, for every rank, from one sorted copy: O(n log n) for a thousand ranks.
        var sorted = busy.Where(b => double.IsFinite(b) && b > 0).Order().ToArray();
        return [.. status.Ranks.Select((r, i) =>
        {
            var m = byRank.GetValueOrDefault(r.Rank)?.Metrics ?? new RankMetrics();
            var mine = busy[i];
            var known = double.IsFinite(mine) && mine > 0;
            var others = known ? sorted.Length - 1 : sorted.Length;
            var ratio = known && others > 0 ? mine / MedianWithout(sorted, mine) : 1;
            return new RankView(r.Rank, r.Node, r.LocalRank, r.State, r.Stage, r.Step, r.TotalSteps, r.HeartbeatAgeSeconds, r.ResidentBytes, m.DeviceBytes,
                m.StepSeconds, m.DataSeconds, m.ComputeSeconds, m.OptimizerSeconds, m.CommunicationSeconds, m.FlopsPerSecond, Mfu(m), ratio,
                ratio >= StragglerRatio && r.State is "running" or "stopped");
        })];
    }

    /// <summary>The median of <paramref name="sorted"/> with one occurrence of <paramref name="value"/> (which it holds) left out.</summary>
    internal static double MedianWithout(double[] sorted, double value)
    {
        var skip = Array.BinarySearch(sorted, value);
        var n = sorted.Length - 1;
        double At(int k) => sorted[k < skip ? k : k + 1];
        return n % 2 == 1 ? At(n / 2) : (At((n / 2) - 1) + At(n / 2)) / 2;
    }

    private static double? Mfu(RankMetrics m) => m.PeakFlopsPerSecond > 0 && m.FlopsPerSecond > 0 ? m.FlopsPerSecond / m.PeakFlopsPerSecond : null;

    private static double SamplesPerSecond(RankMetrics m)
    {
        // The recent steps' global samples over their wall time: samples per step from the counters.
        var seconds = m.RecentStepSeconds.TakeLast(10).Sum();
        var steps = Math.Min(10, m.RecentStepSeconds.Length);
        return seconds > 0 && m.StepsTotal > 0 ? (double)m.SamplesTotal / m.StepsTotal * steps / seconds : 0;
    }

    private void AddHistory(RankMetrics m, RankView[] ranks, DateTimeOffset now)
    {
        var time = now.ToUnixTimeMilliseconds() / 1000.0;
        var flops = ranks.Sum(r => r.ModelFlopsPerSecond);
        var peak = ranks.Length * m.PeakFlopsPerSecond;
        double? mfu = peak > 0 && flops > 0 ? flops / peak : null;
        var samplesPerSecond = SamplesPerSecond(m);
        for (var i = 0; i < m.RecentSteps.Length; i++)
        {
            var step = m.RecentSteps[i];
            var newStage = m.Stage != _lastHistoryStage;
            if (!newStage && step <= _lastHistoryStep)
            {
                continue;
            }

            _lastHistoryStage = m.Stage;
            _lastHistoryStep = step;
            var heldOut = m.HeldOutStep == step ? m.HeldOutLoss : null;
            var last = i == m.RecentSteps.Length - 1;
            if (step % _thinning != 0 && !last && heldOut is null)
            {
                continue;
            }

            // A step ended before the report by the steps that came after it.
            var ended = time - m.RecentStepSeconds.Skip(i + 1).Sum();
            _history.Add(new HistoryPoint(m.Stage, step, Math.Round(ended, 3), m.RecentLosses[i], heldOut,
                samplesPerSecond, mfu, m.RecentStepSeconds[i],
                last ? m.DataSeconds : 0, last ? m.ComputeSeconds : 0, last ? m.OptimizerSeconds : 0, last ? m.CommunicationSeconds : 0));
        }

        if (_history.Count > _historyCapacity)
        {
            // Keep the whole run at half the resolution; held-out points are always kept.
            _thinning *= 2;
            var kept = _history.Where((h, i) => i % 2 == 0 || h.HeldOutLoss is not null || i == _history.Count - 1).ToList();
            _history.Clear();
            _history.AddRange(kept);
        }
    }

    private void NoteCheckpoints(RankReport report, string store)
    {
        var m = report.Metrics;
        if (m.CheckpointSaveStep > 0 && m.CheckpointSaveBytes > 0)
        {
            // Each rank writes its own shard: the checkpoint's size is their sum, its save time the slowest rank's.
            var stage = StageOr(m.CheckpointSaveStage, m.Stage);
            _savedShards[(stage, m.CheckpointSaveStep, report.Rank)] = (m.CheckpointSaveBytes, m.CheckpointSaveSeconds);
            var shards = _savedShards.Where(s => s.Key.Stage == stage && s.Key.Step == m.CheckpointSaveStep).Select(s => s.Value).ToArray();
            var key = Key(stage, m.CheckpointSaveStep);
            var view = _checkpoints.GetValueOrDefault(key) ?? new CheckpointView(stage, m.CheckpointSaveStep, 0, 0, null, store);
            _checkpoints[key] = view with { Bytes = shards.Sum(s => s.Bytes), SaveSeconds = shards.Max(s => s.Seconds) };
        }

        if (m.CommittedStep > 0)
        {
            var stage = StageOr(m.CommittedStage, m.Stage);
            var key = Key(stage, m.CommittedStep);
            var view = _checkpoints.GetValueOrDefault(key) ?? new CheckpointView(stage, m.CommittedStep, 0, 0, null, store);
            _checkpoints[key] = view with { CommittedAt = view.CommittedAt ?? DateTimeOffset.FromUnixTimeMilliseconds((long)(m.CommittedAtUnixSeconds * 1000)) };
        }

        // Bounded: the last thousand checkpoints, and the shard sizes of those only.
        while (_checkpoints.Count > 1000)
        {
            _checkpoints.Remove(_checkpoints.Keys.First());
        }

        var oldest = _checkpoints.Keys.FirstOrDefault();
        foreach (var key in _savedShards.Keys.Where(k => Key(k.Stage, k.Step).CompareTo(oldest) < 0).ToArray())
        {
            _savedShards.Remove(key);
        }
    }

    /// <summary>The training stages in order: a checkpoint of a later stage is further on than any of an earlier one.</summary>
    private static readonly string[] StageOrder = ["vae", "dit"];

    private static (int Stage, long Step) Key(string stage, long step)
    {
        var index = Array.IndexOf(StageOrder, stage);
        return (index < 0 ? StageOrder.Length : index, step);
    }

    private static string StageOr(string stage, string fallback) => stage.Length > 0 ? stage : fallback.Length > 0 ? fallback : "dit";

    private JobView JobOf(JobStatus status, RankView[] ranks, RankMetrics? rankZero)
    {
        var flops = ranks.Sum(r => r.ModelFlopsPerSecond);
        var peak = ranks.Length > 0 && rankZero is not null ? ranks.Length * rankZero.PeakFlopsPerSecond : 0;

        // The stage and its step from the ranks' own progress (every rank reports it, metrics or not): the slowest rank's.
        var slowest = ranks.Where(r => r.Stage.Length > 0).OrderBy(r => Key(r.Stage, r.Step)).FirstOrDefault();
        var stage = slowest?.Stage ?? rankZero?.Stage ?? "";
        var total = slowest?.TotalSteps is > 0 ? slowest.TotalSteps : rankZero is { TotalSteps: > 0 } ? rankZero.TotalSteps : Info.TotalSteps;
        var lastHeldOut = _history.LastOrDefault(h => h.HeldOutLoss is not null && h.Stage == stage);
        return new JobView(Info, status.State, status.Message, status.Round, status.WorldSize, status.StartedAt,
            stage, slowest?.Step ?? 0, total,
            rankZero is { StepsTotal: > 0 } ? rankZero.Loss : null, lastHeldOut?.HeldOutLoss ?? rankZero?.HeldOutLoss,
            rankZero is null ? 0 : SamplesPerSecond(rankZero), flops, peak > 0 && flops > 0 ? flops / peak : null,
            _stepsTotal, _samplesTotal, status.RestartsLeft, status.LastCheckpoint, StragglerRatio,
            [.. ranks.Where(r => r.Straggler).Select(r => r.Rank)], [.. _rounds], [.. status.Restarts],
            [.. ranks.GroupBy(r => StateOf(r.State)).Select(g => new WorkerCount(g.Key, g.Count())).OrderBy(w => w.State, StringComparer.Ordinal)]);
    }

    /// <summary>The bounded state name of a rank ("exited (signal 9 (SIGKILL))" is "exited").</summary>
    internal static string StateOf(string state)
    {
        var space = state.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? state : state[..space];
    }

    /// <summary>The job counters (steps, samples and tokens follow rank 0; non-finite steps sum over ranks).</summary>
    internal (long Steps, long Samples, long Tokens, long NonFinite) Totals
    {
        get
        {
            lock (_gate)
            {
                return (_stepsTotal, _samplesTotal, _tokensTotal, _nonFiniteTotal);
            }
        }
    }

    private sealed record RankCursor(int Pid, RankMetrics Last, long LastObservedStep);
}

/// <summary>One rank's latest metrics as its agent reported them, with the process that measured them.</summary>
public sealed record RankReport(int Rank, int Pid, RankMetrics Metrics);

/// <summary>What a rank added since the previous publish (counters that survive restarts).</summary>
public sealed record RankDelta(int Rank, long Steps, long Samples, long Tokens, long NonFiniteSteps, double DataWaitSeconds, long CheckpointSaves, double[] StepSeconds);
