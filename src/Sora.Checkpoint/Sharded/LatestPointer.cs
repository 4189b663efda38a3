using System.Text;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// The content of <c>checkpoints/latest</c>: the step and the manifest of the latest committed checkpoint, the round
/// of the job that fences commits (<see cref="CheckpointFence"/>; 0 in pointers written before rounds existed), and
/// the ETag of the version read (for the next compare-and-swap). A pointer without a manifest means "no checkpoint
/// yet, but the job is at <see cref="Round"/>": what a fence writes into an empty store. A stage that has ended names
/// the files it leaves for later stages in <see cref="Outputs"/>.
/// </summary>
public sealed record LatestPointer(long Step, string? Manifest, string? ETag = null)
{
    /// <summary>The job's round when this pointer was written or last fenced (0: unfenced).</summary>
    public long Round { get; init; }

    /// <summary>The stage's committed outputs by file name (null: none yet): set once the stage has ended, kept by fences.</summary>
    public IReadOnlyDictionary<string, StageOutput>? Outputs { get; init; }

    /// <summary>Whether the pointer names a committed checkpoint (false for a fence's "no checkpoint yet").</summary>
    public bool HasCheckpoint => Manifest is not null;

    /// <summary>The pointer a fence writes into a store that holds no checkpoint: step 0, no manifest, <paramref name="round"/>.</summary>
    public static LatestPointer NoCheckpoint(long round) => new(0, null) { Round = round };

    /// <summary>UTF-8 JSON <c>{"step":…,"manifest":"…","round":…}</c> (no manifest for "no checkpoint yet"; no round when it is 0, as older writers wrote it).</summary>
    public byte[] ToJson()
    {
        var json = new JsonObject { ["step"] = Step };
        if (Manifest is not null)
        {
            json["manifest"] = Manifest;
        }

        if (Round != 0)
        {
            json["round"] = Round;
        }

        if (Outputs is not null)
        {
            var outputs = new JsonObject();
            foreach (var (name, output) in Outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                outputs[name] = output.ToJson();
            }

            json["outputs"] = outputs;
        }

        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    /// <summary>The pointer stored at <paramref name="layout"/>'s <c>latest</c> with its ETag, "no checkpoint yet" pointers included; null when there is none.</summary>
    public static async Task<LatestPointer?> ReadAsync(ICheckpointStore store, CheckpointLayout layout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layout);
        try
        {
            var stream = await store.OpenReadAsync(layout.Latest, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                return Parse(buffer.ToArray(), layout.Latest, layout, stream.Properties.ETag);
            }
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Parses and checks a pointer read from <paramref name="objectName"/>: the manifest must be a valid object name inside
    /// <paramref name="layout"/>'s step folder of the same step; a pointer without one must be at step 0; "round" may be absent (0).
    /// </summary>
    public static LatestPointer Parse(ReadOnlySpan<byte> utf8, string objectName, CheckpointLayout layout, string? etag)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var fields = new JsonFields(objectName);
        var root = fields.Parse(utf8);
        var step = fields.NonNegative(root, "step", "");
        var round = root["round"] is null ? 0 : fields.NonNegative(root, "round", "");
        var outputs = root["outputs"] is null ? null : ParseOutputs(fields, fields.Object(root, "outputs", ""));
        if (root["manifest"] is null)
        {
            return step == 0 && outputs is null
                ? new LatestPointer(0, null, etag) { Round = round }
                : throw fields.Error("manifest", $"missing (only the 'no checkpoint yet' pointer of a fence has none, and it is at step 0, not {step})");
        }

        var manifest = fields.String(root, "manifest", "");
        if (!ObjectName.IsValid(manifest))
        {
            throw fields.Error("manifest", $"'{manifest}' is not a valid object name (no '..', no absolute path)");
        }

        if (manifest != layout.Manifest(step))
        {
            throw fields.Error("manifest", $"'{manifest}' is not the manifest of step {step} ('{layout.Manifest(step)}')");
        }

        return new LatestPointer(step, manifest, etag) { Round = round, Outputs = outputs };
    }

    private static Dictionary<string, StageOutput> ParseOutputs(JsonFields fields, JsonObject node)
    {
        var outputs = new Dictionary<string, StageOutput>(StringComparer.Ordinal);
        foreach (var (name, value) in node)
        {
            var path = JsonFields.Join("outputs", name);
            outputs[name] = StageOutput.Parse(fields, value as JsonObject ?? throw fields.Error(path, "expected an object"), path);
        }

        return outputs;
    }
}
