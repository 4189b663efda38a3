using System.Text;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>The content of <c>checkpoints/latest</c>: the step and the manifest of the latest committed checkpoint, and the ETag of the version read (for the next compare-and-swap).</summary>
public sealed record LatestPointer(long Step, string Manifest, string? ETag = null)
{
    /// <summary>UTF-8 JSON <c>{"step":…,"manifest":"…"}</c>.</summary>
    public byte[] ToJson() => Encoding.UTF8.GetBytes(new JsonObject { ["step"] = Step, ["manifest"] = Manifest }.ToJsonString());

    /// <summary>Parses and checks a pointer read from <paramref name="objectName"/>: the manifest must be a valid object name inside <paramref name="layout"/>'s step folder of the same step.</summary>
    public static LatestPointer Parse(ReadOnlySpan<byte> utf8, string objectName, CheckpointLayout layout, string? etag)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var fields = new JsonFields(objectName);
        var root = fields.Parse(utf8);
        var step = fields.NonNegative(root, "step", "");
        var manifest = fields.String(root, "manifest", "");
        if (!ObjectName.IsValid(manifest))
        {
            throw fields.Error("manifest", $"'{manifest}' is not a valid object name (no '..', no absolute path)");
        }

        if (manifest != layout.Manifest(step))
        {
            throw fields.Error("manifest", $"'{manifest}' is not the manifest of step {step} ('{layout.Manifest(step)}')");
        }

        return new LatestPointer(step, manifest, etag);
    }
}
