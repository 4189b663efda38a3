using System.Globalization;
using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Where a checkpoint's objects live in a store: <c>&lt;root&gt;/step-000000123/shard-00001-of-00004.bin</c>,
/// <c>&lt;root&gt;/step-000000123/manifest.json</c> and the pointer <c>&lt;root&gt;/latest</c>.
/// </summary>
public sealed class CheckpointLayout
{
    private const string StepPrefix = "step-";

    /// <summary>A layout under <paramref name="root"/> (default "checkpoints"); the root is itself a valid object name prefix.</summary>
    public CheckpointLayout(string root = "checkpoints")
    {
        ObjectName.Validate(root);
        Root = root;
    }

    /// <summary>The prefix every checkpoint object starts with (no trailing '/').</summary>
    public string Root { get; }

    /// <summary>The name of the pointer to the latest committed checkpoint.</summary>
    public string Latest => Root + "/latest";

    /// <summary>The folder prefix of one step's objects, with a trailing '/'.</summary>
    public string StepPrefixOf(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return string.Create(CultureInfo.InvariantCulture, $"{Root}/{StepPrefix}{step:D9}/");
    }

    /// <summary>The manifest of one step's checkpoint.</summary>
    public string Manifest(long step) => StepPrefixOf(step) + ManifestFileName;

    /// <summary>The file name of a manifest inside its step folder.</summary>
    public static string ManifestFileName => "manifest.json";

    /// <summary>The shard object name relative to its step folder, e.g. <c>shard-00001-of-00004.bin</c>.</summary>
    public static string ShardFileName(int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        return string.Create(CultureInfo.InvariantCulture, $"shard-{rank:D5}-of-{worldSize:D5}.bin");
    }

    /// <summary>The full name of one rank's shard object.</summary>
    public string Shard(long step, int rank, int worldSize) => StepPrefixOf(step) + ShardFileName(rank, worldSize);

    /// <summary>The step of an object under this root (e.g. its manifest or shard), or null if the name is not inside a step folder.</summary>
    public long? StepOf(string objectName)
    {
        ArgumentNullException.ThrowIfNull(objectName);
        var prefix = Root + "/" + StepPrefix;
        if (!objectName.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var slash = objectName.IndexOf('/', prefix.Length);
        var digits = slash < 0 ? objectName[prefix.Length..] : objectName[prefix.Length..slash];
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            ? step
            : null;
    }
}
