namespace Sora.Distributed.Configuration;

/// <summary>The job's checkpoints under <c>sora launch</c> (the <c>checkpoint:</c> section): where, how often, and what is kept.</summary>
public sealed record CheckpointConfig
{
    /// <summary>The checkpoint directory; null: <c>&lt;output&gt;/checkpoints</c>.</summary>
    public string? Store { get; init; }

    /// <summary>Save the DiT stage after every this many steps (0: never; a failure then restarts from scratch).</summary>
    public long Every { get; init; } = 500;

    /// <summary>Retention: the newest this many are kept (0: all).</summary>
    public int KeepLast { get; init; } = 3;

    /// <summary>Retention: and every checkpoint whose step is a multiple of this (0: none).</summary>
    public long KeepEvery { get; init; }

    /// <summary>The store directory of a job writing to <paramref name="output"/>.</summary>
    public string StoreOf(string output) => Store ?? Path.Combine(output, "checkpoints");

    public static CheckpointConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new CheckpointConfig();
        var config = new CheckpointConfig
        {
            Store = section.OptionalString("store"),
            Every = section.Long("every", defaults.Every, min: 0),
            KeepLast = section.Int("keep_last", defaults.KeepLast, min: 0),
            KeepEvery = section.Long("keep_every", defaults.KeepEvery, min: 0),
        };
        return config;
    }
}
