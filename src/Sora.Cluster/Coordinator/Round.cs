using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>One incarnation of the worker group at a fixed world size: its plan, what its ranks reported, their exits, and how it ends.</summary>
public sealed class Round(long number, RoundPlan plan)
{
    private readonly WorkerReport?[] _reports = new WorkerReport?[plan.WorldSize];
    private readonly Dictionary<int, WorkerExited> _exits = [];

    public long Number { get; } = number;

    public RoundPlan Plan { get; } = plan;

    /// <summary>Each rank's latest report (null before its first).</summary>
    public IReadOnlyList<WorkerReport?> Reports => _reports;

    /// <summary>The ranks that exited (or count as gone), by rank.</summary>
    public IReadOnlyDictionary<int, WorkerExited> Exits => _exits;

    /// <summary>The checkpoint step it resumed from (0: from scratch).</summary>
    public long ResumedFrom { get; private set; }

    /// <summary>The stage of <see cref="ResumedFrom"/> ("" when the round started from scratch).</summary>
    public string ResumedStage { get; private set; } = "";

    /// <summary>When its workers were told to start (null while it is being fenced).</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Whether its first trained step was reported (a recovery's end, for <c>sora bench recovery</c>).</summary>
    public bool FirstStepReported { get; set; }

    /// <summary>How it ends, once it does.</summary>
    public RoundEnd? End { get; private set; }

    public bool AllExited => _exits.Count == Plan.WorldSize;

    /// <summary>The ranks of <paramref name="node"/>.</summary>
    public IEnumerable<int> RanksOf(string node) => Enumerable.Range(0, Plan.WorldSize).Where(r => Plan.Ranks[r].Node == node);

    /// <summary>Whether <paramref name="node"/> has ranks in it.</summary>
    public bool Includes(string node) => Plan.Nodes.Any(n => n.Node == node);

    /// <summary>This node's share of the round.</summary>
    public RankAssignment[] AssignmentsOf(string node) => [.. RanksOf(node).Select(r => new RankAssignment(r, Plan.Ranks[r].LocalRank))];

    public void Start(DateTimeOffset now, long resumedFrom, string resumedStage)
    {
        StartedAt = now;
        ResumedFrom = resumedFrom;
        ResumedStage = resumedStage;
    }

    /// <summary>Records a report; false when the rank is not one of this round's or has exited.</summary>
    public bool Record(WorkerReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Rank < 0 || report.Rank >= Plan.WorldSize || _exits.ContainsKey(report.Rank))
        {
            return false;
        }

        _reports[report.Rank] = report;
        return true;
    }

    /// <summary>Records an exit; false when it is not news (another round's, an unknown rank, or a rank already gone).</summary>
    public bool Record(WorkerExited exited)
    {
        ArgumentNullException.ThrowIfNull(exited);
        return exited.Round == Number && exited.Rank >= 0 && exited.Rank < Plan.WorldSize && _exits.TryAdd(exited.Rank, exited);
    }

    /// <summary>Counts the ranks of <paramref name="node"/> as gone (its agent was lost: it cannot report them); returns those newly gone.</summary>
    public IReadOnlyList<int> LoseNode(string node)
    {
        var gone = RanksOf(node).Where(r => !_exits.ContainsKey(r)).ToList();
        foreach (var rank in gone)
        {
            _exits[rank] = new WorkerExited(node, Number, rank, -9, true, "", "");
        }

        return gone;
    }

    /// <summary>Starts ending it, unless it already is.</summary>
    public bool Ending(RoundEnd end)
    {
        if (End is not null)
        {
            return false;
        }

        End = end;
        return true;
    }

    /// <summary>Turns a failure's end into <paramref name="fatal"/> (a rank reported an error no restart fixes while the round ended for another rank's failure).</summary>
    public void Escalate(RoundEnd fatal)
    {
        ArgumentNullException.ThrowIfNull(fatal);
        if (End is { IsFailure: true })
        {
            End = fatal;
        }
    }

    /// <summary>Turns a failure's end into a stop (a stop was asked for while it ended): the job stops instead of restarting.</summary>
    public void StopInstead() => End = End is { } end ? end with { Kind = RoundEndKind.Stop } : End;

    /// <summary>The stage every reporting rank is in, or null while they are in different ones or none reported.</summary>
    public string? Stage
    {
        get
        {
            var stages = _reports.Where(r => r is { Stage.Length: > 0 }).Select(r => r!.Stage).Distinct().ToList();
            return stages.Count == 1 && _reports.All(r => r is not null) ? stages[0] : null;
        }
    }

    /// <summary>The furthest step any rank reported, in the furthest stage reached (steps number from 1 in each stage); ("dit", 0) before any report.</summary>
    public (string Stage, long Step) Reached =>
        _reports.Where(r => r is { Stage.Length: > 0 }).Select(r => r!).OrderBy(r => r.Stage == "dit" ? 1 : 0).ThenBy(r => r.Step).LastOrDefault() is { } furthest
            ? (furthest.Stage, furthest.Step)
            : ("dit", 0);
}

/// <summary>Why a round ends.</summary>
public enum RoundEndKind
{
    /// <summary>A worker exited with an error.</summary>
    WorkerFailed,

    /// <summary>A rank stopped making progress.</summary>
    Hang,

    /// <summary>A node of the round was lost.</summary>
    NodeLost,

    /// <summary>A node joined and the group re-forms larger (not a failure).</summary>
    ScaleUp,

    /// <summary>A stop was asked for: the job ends stopped.</summary>
    Stop,

    /// <summary>An error that would happen again on every restart (a worker's configuration or data error, a node's failed check): the job fails at once.</summary>
    Fatal,
}

/// <summary>How a round ends: the cause (first line: the reason agents get), its kind, whether workers checkpoint first, and when it was detected.</summary>
public sealed record RoundEnd(string Cause, RoundEndKind Kind, bool Graceful, DateTimeOffset DetectedAt)
{
    /// <summary>The kind as the restart history and the events name it.</summary>
    public string KindName => Kind switch
    {
        RoundEndKind.WorkerFailed => "worker-exit",
        RoundEndKind.Hang => "hang",
        RoundEndKind.NodeLost => "node-lost",
        RoundEndKind.ScaleUp => "scale-up",
        RoundEndKind.Stop => "stop",
        _ => "fatal",
    };

    /// <summary>Whether it spends the restart budget.</summary>
    public bool IsFailure => Kind is RoundEndKind.WorkerFailed or RoundEndKind.Hang or RoundEndKind.NodeLost;

    /// <summary>The cause's first line.</summary>
    public string Reason => Cause.Split('\n')[0];
}
