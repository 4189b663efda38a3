using System.Text;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Formats;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// What one rank tells rank 0 after writing its shard object: the object (relative to the step folder), its
/// SHA-256 and size, the tensor ranges inside it, and the rank's generator states. <see cref="ToJson"/> and
/// <see cref="FromJson"/> carry it between processes (e.g. through the TCPStore).
/// </summary>
public sealed record ShardInfo(
    long Step,
    int Rank,
    int WorldSize,
    string Object,
    string Sha256,
    long Size,
    IReadOnlyList<ShardEntry> Entries,
    IReadOnlyDictionary<string, byte[]> GeneratorStates,
    int? ChunkBytes = null)
{
    /// <summary>One line of JSON.</summary>
    public string ToJson()
    {
        var entries = new JsonArray();
        foreach (var entry in Entries)
        {
            entries.Add(new JsonObject
            {
                ["name"] = entry.Name,
                ["kind"] = entry.Kind.Name(),
                ["shape"] = JsonFields.ToArray(entry.Shape),
                ["dtype"] = SafeTensorsFile.DTypeName(entry.DType, entry.Name),
                ["start"] = entry.Start,
                ["end"] = entry.End,
                ["offset"] = entry.Offset,
            });
        }

        return new JsonObject
        {
            ["step"] = Step,
            ["rank"] = Rank,
            ["world_size"] = WorldSize,
            ["object"] = Object,
            ["sha256"] = Sha256,
            ["size"] = Size,
            ["entries"] = entries,
            ["generator_states"] = JsonFields.ToBase64Map(GeneratorStates),
            ["chunk_bytes"] = ChunkBytes,
        }.ToJsonString();
    }

    /// <summary>Parses <see cref="ToJson"/>'s output; <paramref name="source"/> names where it came from in errors (e.g. "shard info of rank 3").</summary>
    public static ShardInfo FromJson(string json, string source = "shard info")
    {
        ArgumentNullException.ThrowIfNull(json);
        var fields = new JsonFields(source);
        var root = fields.Parse(Encoding.UTF8.GetBytes(json));
        var entries = new List<ShardEntry>();
        var array = fields.Array(root, "entries", "");
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"entries[{i}]";
            var entry = array[i] as JsonObject ?? throw fields.Error(path, "expected an object");
            entries.Add(new ShardEntry(
                fields.String(entry, "name", path),
                fields.Kind(entry, "kind", path),
                fields.Shape(entry, "shape", path),
                fields.DType(entry, "dtype", path),
                fields.NonNegative(entry, "start", path),
                fields.NonNegative(entry, "end", path),
                fields.NonNegative(entry, "offset", path)));
        }

        return new ShardInfo(
            fields.NonNegative(root, "step", ""),
            fields.Int(root, "rank", ""),
            fields.Int(root, "world_size", ""),
            fields.String(root, "object", ""),
            fields.String(root, "sha256", ""),
            fields.NonNegative(root, "size", ""),
            entries,
            fields.Base64Map(root, "generator_states", ""),
            fields.OptionalPositiveInt(root, "chunk_bytes", ""));
    }
}
