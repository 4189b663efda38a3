using Sora.Data.Loading;

namespace Sora.Distributed.Configuration;

/// <summary>The synthetic moving-shapes dataset a job trains on (until Parquet datasets land).</summary>
public sealed record SyntheticDataConfig
{
    /// <summary>Training clips generated.</summary>
    public int Samples { get; init; } = 2048;

    /// <summary>Clips kept apart for the held-out loss.</summary>
    public int HeldOut { get; init; } = 32;

    /// <summary>Frame sizes as (height, width).</summary>
    public IReadOnlyList<(int Height, int Width)> Sizes { get; init; } = [(32, 32)];

    /// <summary>Clip lengths in frames (1 = images).</summary>
    public IReadOnlyList<int> Lengths { get; init; } = [1, 8];

    /// <summary>How the DiT's batches are formed (<c>data.batching</c>): buckets of one shape, or Patch n' Pack.</summary>
    public BatchingOptions Batching { get; init; } = new();

    public static SyntheticDataConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new SyntheticDataConfig();
        section.Choice("source", "synthetic", "synthetic");
        return new SyntheticDataConfig
        {
            Samples = section.Int("samples", defaults.Samples, min: 1),
            HeldOut = section.Int("held_out", defaults.HeldOut, min: 1),
            Sizes = section.IntLists("sizes", defaults.Sizes.Select(s => new[] { s.Height, s.Width }).ToArray(), length: 2, min: 4)
                .Select(s => (s[0], s[1])).ToArray(),
            Lengths = section.Ints("lengths", defaults.Lengths.ToArray(), min: 1),
            Batching = ReadBatching(section.Section("batching")),
        };
    }

    private static BatchingOptions ReadBatching(YamlSection section)
    {
        var defaults = new BatchingOptions();
        var mode = section.Choice("mode", "bucket", "bucket", "pack");
        return new BatchingOptions
        {
            Mode = mode == "pack" ? BatchingMode.Pack : BatchingMode.Bucket,
            TokenBudget = section.Int("token_budget", defaults.TokenBudget, min: 1),
        }.Validate();
    }
}
