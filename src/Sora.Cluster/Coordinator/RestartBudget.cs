namespace Sora.Cluster.Coordinator;

/// <summary>The job's restart budget (<c>--max-restarts</c>): failures that may still be recovered, and the history of those that were.</summary>
public sealed class RestartBudget(int maxRestarts)
{
    private readonly List<RestartRecord> _history = [];

    public int Max { get; } = maxRestarts;

    public int Used => _history.Count;

    public int Left => Math.Max(0, Max - Used);

    public IReadOnlyList<RestartRecord> History => _history;

    /// <summary>Records a failed round; false when the budget was already spent (the job must end).</summary>
    public bool TrySpend(RestartRecord failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (Used >= Max)
        {
            return false;
        }

        _history.Add(failure);
        return true;
    }
}
