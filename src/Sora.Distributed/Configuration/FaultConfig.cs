namespace Sora.Distributed.Configuration;

/// <summary>How <c>sora launch</c> handles failures (the <c>fault:</c> section; the CLI's flags override it).</summary>
public sealed record FaultConfig
{
    /// <summary>Failed rounds that are restarted from the last committed checkpoint before the job gives up.</summary>
    public int MaxRestarts { get; init; } = 3;

    /// <summary>Seconds without any output after which a rank is hung; null: automatic (scales with the step time).</summary>
    public double? HangTimeout { get; init; }

    /// <summary>Fewest nodes a round runs on.</summary>
    public int MinNodes { get; init; } = 1;

    /// <summary>Most nodes a round takes.</summary>
    public int MaxNodes { get; init; } = 1;

    /// <summary>Seconds agents keep their workers running while the coordinator is unreachable.</summary>
    public double CoordinatorTimeout { get; init; } = 10;

    /// <summary>Seconds to wait for more nodes once the minimum is in.</summary>
    public double RendezvousWait { get; init; } = 3;

    /// <summary>A rank whose busy time per step is at least this multiple of the other ranks' median is flagged a straggler.</summary>
    public double StragglerRatio { get; init; } = 1.5;

    public static FaultConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new FaultConfig();
        var min = section.Int("min_nodes", defaults.MinNodes, min: 1);
        var config = new FaultConfig
        {
            MaxRestarts = section.Int("max_restarts", defaults.MaxRestarts, min: 0),
            HangTimeout = section.OptionalDouble("hang_timeout", min: 0.1),
            MinNodes = min,
            MaxNodes = section.Int("max_nodes", Math.Max(min, defaults.MaxNodes), min: min),
            CoordinatorTimeout = section.Double("coordinator_timeout", defaults.CoordinatorTimeout, min: 1),
            RendezvousWait = section.Double("rendezvous_wait", defaults.RendezvousWait, min: 0),
            StragglerRatio = section.Double("straggler_ratio", defaults.StragglerRatio, min: 1.05),
        };
        return config;
    }
}
