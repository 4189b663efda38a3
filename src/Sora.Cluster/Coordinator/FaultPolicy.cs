namespace Sora.Cluster.Coordinator;

/// <summary>How the coordinator reacts to failures (the job YAML's <c>fault:</c> section, overridden by the CLI).</summary>
/// <param name="MaxRestarts">Rounds that may end in a failure and be restarted; one more failure ends the job.</param>
/// <param name="MinNodes">Fewest nodes a round may run on.</param>
/// <param name="MaxNodes">Most nodes a round takes.</param>
/// <param name="HangTimeout">A rank with no output for this long is hung; null: automatic (see <see cref="HangWatchdog"/>).</param>
/// <param name="RendezvousWait">Once <paramref name="MinNodes"/> are in (and fewer than the maximum), how long to wait for more before starting.</param>
/// <param name="StopGrace">After SIGTERM, how long a worker has before SIGKILL.</param>
/// <param name="CoordinatorTimeout">How long an agent keeps its workers running while the coordinator is unreachable.</param>
public sealed record FaultPolicy(
    int MaxRestarts = 3,
    int MinNodes = 1,
    int MaxNodes = 1,
    TimeSpan? HangTimeout = null,
    TimeSpan? RendezvousWait = null,
    TimeSpan? StopGrace = null,
    TimeSpan? CoordinatorTimeout = null)
{
    public TimeSpan RendezvousWaitOrDefault => RendezvousWait ?? TimeSpan.FromSeconds(3);

    public TimeSpan StopGraceOrDefault => StopGrace ?? TimeSpan.FromSeconds(5);

    public TimeSpan CoordinatorTimeoutOrDefault => CoordinatorTimeout ?? DefaultCoordinatorTimeout;

    /// <summary>The coordinator timeout when neither the job nor the agent's option gives one.</summary>
    public static readonly TimeSpan DefaultCoordinatorTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Checks the ranges; the message names the key.</summary>
    public FaultPolicy Validate()
    {
        if (MaxRestarts < 0)
        {
            throw new ArgumentException($"fault.max_restarts must be >= 0 (got {MaxRestarts})");
        }

        if (MinNodes < 1 || MaxNodes < MinNodes)
        {
            throw new ArgumentException($"nodes must satisfy 1 <= min ({MinNodes}) <= max ({MaxNodes}) (fault.min_nodes/max_nodes or --nnodes MIN:MAX)");
        }

        if (HangTimeout is { } hang && hang <= TimeSpan.Zero)
        {
            throw new ArgumentException($"fault.hang_timeout must be > 0 seconds (got {hang.TotalSeconds})");
        }

        return this;
    }

    /// <summary>Parses torchrun's <c>--nnodes</c>: <c>N</c> or <c>MIN:MAX</c>.</summary>
    public static (int Min, int Max) ParseNodes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, out var n) && n >= 1))
        {
            var min = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            var max = int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
            if (max >= min)
            {
                return (min, max);
            }
        }

        throw new ArgumentException($"--nnodes: expected N or MIN:MAX with 1 <= MIN <= MAX (got '{text}')");
    }
}
