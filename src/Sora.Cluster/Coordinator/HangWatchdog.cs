namespace Sora.Cluster.Coordinator;

/// <summary>
/// The progress watchdog: a rank that has printed nothing (no step, no status line) for longer than the hang
/// timeout is hung. The timeout is the configured one, or automatic: the larger of <see cref="Floor"/> and
/// <see cref="StepMultiple"/> times the slowest rank's mean step time, so a model whose steps take minutes is
/// not declared hung after seconds. The clock is the caller's (the actor's scheduler), so tests drive it.
/// </summary>
public sealed class HangWatchdog(TimeSpan? configured)
{
    /// <summary>The automatic timeout's lower bound.</summary>
    public static readonly TimeSpan Floor = TimeSpan.FromSeconds(120);

    /// <summary>The automatic timeout in step times.</summary>
    public const double StepMultiple = 20;

    private readonly Dictionary<int, (DateTimeOffset LastOutput, double? StepSeconds)> _ranks = [];

    /// <summary>The timeout in force.</summary>
    public TimeSpan Timeout => configured ?? Automatic();

    /// <summary>Starts watching <paramref name="ranks"/> from <paramref name="now"/> (a new round).</summary>
    public void Reset(IEnumerable<int> ranks, DateTimeOffset now)
    {
        _ranks.Clear();
        foreach (var rank in ranks)
        {
            _ranks[rank] = (now, null);
        }
    }

    /// <summary>Records what an agent reported: the rank printed something <paramref name="secondsSinceOutput"/> before <paramref name="now"/>.</summary>
    public void Observe(int rank, double secondsSinceOutput, double? stepSeconds, DateTimeOffset now)
    {
        if (_ranks.TryGetValue(rank, out var known))
        {
            _ranks[rank] = (now - TimeSpan.FromSeconds(Math.Max(0, secondsSinceOutput)), stepSeconds ?? known.StepSeconds);
        }
    }

    /// <summary>Stops watching a rank (it exited).</summary>
    public void Forget(int rank) => _ranks.Remove(rank);

    /// <summary>The earliest time a watched rank can be hung if it prints nothing more (null: none is watched); the coordinator's hang timer fires then.</summary>
    public DateTimeOffset? Deadline => _ranks.Count == 0 ? null : _ranks.Values.Min(r => r.LastOutput) + Timeout;

    /// <summary>The hung ranks at <paramref name="now"/>, the longest silent first, with how long each has been silent.</summary>
    public IReadOnlyList<(int Rank, TimeSpan Silent)> Hung(DateTimeOffset now)
    {
        var timeout = Timeout;
        return _ranks.Select(r => (r.Key, Silent: now - r.Value.LastOutput)).Where(r => r.Silent > timeout).OrderByDescending(r => r.Silent).ToList();
    }

    private TimeSpan Automatic()
    {
        var slowest = _ranks.Values.Select(r => r.StepSeconds ?? 0).DefaultIfEmpty(0).Max();
        var scaled = TimeSpan.FromSeconds(slowest * StepMultiple);
        return scaled > Floor ? scaled : Floor;
    }
}
