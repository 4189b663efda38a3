using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Formats;
using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// The description of one committed checkpoint (<c>step-…/manifest.json</c>): the run-wide state and, for every
/// tensor, which shard object holds which flat range at which byte offset; for every shard object its SHA-256
/// and size. Written by rank 0 after all shards are in the store; its presence makes a checkpoint complete.
/// </summary>
public sealed record CheckpointManifest(
    int FormatVersion,
    long Step,
    int WorldSize,
    string ConfigHash,
    DateTimeOffset Created,
    long SchedulePosition,
    string? DataCursor,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<ManifestShard> Shards,
    IReadOnlyList<ManifestTensor> Tensors)
{
    /// <summary>
    /// The version this code writes. It reads 1 too: version 2 changed only the shard digest, from the SHA-256 of
    /// the whole object to the SHA-256 of its chunks' SHA-256s (<see cref="ShardDigest"/>, <c>chunk_bytes</c>).
    /// </summary>
    public const int CurrentFormatVersion = 2;

    private const int FirstFormatVersion = 1;

    private const string FormatName = "sora-sharded-checkpoint";

    /// <summary>Total bytes of the shard objects.</summary>
    public long TotalBytes => Shards.Sum(s => s.Size);

    /// <summary>The tensor by name, or null.</summary>
    public ManifestTensor? Find(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>The full object name of a shard, given the manifest's own object name.</summary>
    public static string ShardObjectName(string manifestObject, ManifestShard shard)
    {
        ArgumentNullException.ThrowIfNull(manifestObject);
        ArgumentNullException.ThrowIfNull(shard);
        var slash = manifestObject.LastIndexOf('/');
        return (slash < 0 ? string.Empty : manifestObject[..(slash + 1)]) + shard.Object;
    }

    /// <summary>Indented UTF-8 JSON.</summary>
    public byte[] ToJson()
    {
        var shards = new JsonArray();
        foreach (var shard in Shards)
        {
            shards.Add(new JsonObject
            {
                ["rank"] = shard.Rank,
                ["object"] = shard.Object,
                ["sha256"] = shard.Sha256,
                ["size"] = shard.Size,
                ["generator_states"] = JsonFields.ToBase64Map(shard.GeneratorStates),
            });
            if (shard.ChunkBytes is { } chunk)
            {
                ((JsonObject)shards[^1]!)["chunk_bytes"] = chunk;
            }
        }

        var tensors = new JsonArray();
        foreach (var tensor in Tensors)
        {
            var pieces = new JsonArray();
            foreach (var piece in tensor.Pieces)
            {
                pieces.Add(new JsonObject { ["rank"] = piece.Rank, ["start"] = piece.Start, ["end"] = piece.End, ["offset"] = piece.Offset });
            }

            tensors.Add(new JsonObject
            {
                ["name"] = tensor.Name,
                ["kind"] = tensor.Kind.Name(),
                ["shape"] = JsonFields.ToArray(tensor.Shape),
                ["dtype"] = SafeTensorsFile.DTypeName(tensor.DType, tensor.Name),
                ["pieces"] = pieces,
            });
        }

        var root = new JsonObject
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            ["step"] = Step,
            ["world_size"] = WorldSize,
            ["config_hash"] = ConfigHash,
            ["created"] = Created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["schedule_position"] = SchedulePosition,
            ["data_cursor"] = DataCursor is null ? null : JsonNode.Parse(DataCursor),
            ["metadata"] = new JsonObject(Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["shards"] = shards,
            ["tensors"] = tensors,
        };
        return Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Parses and validates a manifest read from <paramref name="objectName"/>: every field present and typed,
    /// shard objects named inside the step folder (no '..', no absolute path), one shard per rank, every tensor's
    /// pieces covering it exactly once and lying inside their shard object. Errors name the object and the field.
    /// </summary>
    public static CheckpointManifest Parse(ReadOnlySpan<byte> utf8, string objectName)
    {
        var fields = new JsonFields(objectName);
        var root = fields.Parse(utf8);
        var format = fields.String(root, "format", "");
        if (format != FormatName)
        {
            throw fields.Error("format", $"'{format}' is not {FormatName}");
        }

        var version = fields.Int(root, "format_version", "");
        if (version is < FirstFormatVersion or > CurrentFormatVersion)
        {
            throw fields.Error("format_version", $"version {version} is not supported (this build reads {FirstFormatVersion} to {CurrentFormatVersion})");
        }

        var step = fields.NonNegative(root, "step", "");
        var worldSize = fields.Int(root, "world_size", "");
        if (worldSize < 1)
        {
            throw fields.Error("world_size", $"{worldSize} is not a world size");
        }

        var createdText = fields.String(root, "created", "");
        if (!DateTimeOffset.TryParse(createdText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var created))
        {
            throw fields.Error("created", $"'{createdText}' is not a timestamp");
        }

        var cursor = root["data_cursor"];
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields.Object(root, "metadata", ""))
        {
            metadata[key] = fields.AsString(value, $"metadata.{key}");
        }

        var shards = ParseShards(fields, root, worldSize, version);
        var tensors = ParseTensors(fields, root, shards);
        return new CheckpointManifest(
            version,
            step,
            worldSize,
            fields.String(root, "config_hash", ""),
            created,
            fields.NonNegative(root, "schedule_position", ""),
            cursor?.ToJsonString(),
            metadata,
            shards,
            tensors);
    }

    private static List<ManifestShard> ParseShards(JsonFields fields, JsonObject root, int worldSize, int version)
    {
        var array = fields.Array(root, "shards", "");
        if (array.Count != worldSize)
        {
            throw fields.Error("shards", $"{array.Count} shard(s) for world size {worldSize}");
        }

        var shards = new List<ManifestShard>();
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"shards[{i}]";
            var shard = array[i] as JsonObject ?? throw fields.Error(path, "expected an object");
            var rank = fields.Int(shard, "rank", path);
            if (rank != i)
            {
                throw fields.Error(path + ".rank", $"rank {rank} at position {i}; shards must be listed by rank");
            }

            var name = fields.String(shard, "object", path);
            CheckRelativeName(fields, name, path + ".object");
            var sha = fields.String(shard, "sha256", path);
            if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
            {
                throw fields.Error(path + ".sha256", $"'{sha}' is not a lower-case hex SHA-256");
            }

            // Version 1 hashed the whole object; version 2 hashes chunks of chunk_bytes.
            var chunkBytes = fields.OptionalPositiveInt(shard, "chunk_bytes", path);
            if ((chunkBytes is null) != (version == FirstFormatVersion))
            {
                throw fields.Error(path + ".chunk_bytes", version == FirstFormatVersion ? "is not part of format version 1" : $"is required by format version {version}");
            }

            shards.Add(new ManifestShard(rank, name, sha, fields.NonNegative(shard, "size", path), fields.Base64Map(shard, "generator_states", path), chunkBytes));
        }

        return shards;
    }

    private static List<ManifestTensor> ParseTensors(JsonFields fields, JsonObject root, List<ManifestShard> shards)
    {
        var array = fields.Array(root, "tensors", "");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<ManifestTensor>();
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"tensors[{i}]";
            var node = array[i] as JsonObject ?? throw fields.Error(path, "expected an object");
            var name = fields.String(node, "name", path);
            if (!names.Add(name))
            {
                throw fields.Error(path + ".name", $"tensor '{name}' appears twice");
            }

            var shape = fields.Shape(node, "shape", path);
            var dtype = fields.DType(node, "dtype", path);
            var numel = shape.Aggregate(1L, (a, b) => checked(a * b));
            var pieceArray = fields.Array(node, "pieces", path);
            var pieces = new List<TensorPiece>();
            long covered = 0;
            for (var j = 0; j < pieceArray.Count; j++)
            {
                var at = $"{path}.pieces[{j}]";
                var p = pieceArray[j] as JsonObject ?? throw fields.Error(at, "expected an object");
                var piece = new TensorPiece(fields.Int(p, "rank", at), fields.NonNegative(p, "start", at), fields.NonNegative(p, "end", at), fields.NonNegative(p, "offset", at));
                if (piece.Rank < 0 || piece.Rank >= shards.Count)
                {
                    throw fields.Error(at + ".rank", $"rank {piece.Rank} has no shard");
                }

                if (piece.Start != covered || piece.End < piece.Start || piece.End > numel)
                {
                    throw fields.Error(at, $"range [{piece.Start}, {piece.End}) of tensor '{name}' ({numel} elements) does not continue at element {covered}; pieces must cover the tensor once, in order");
                }

                var bytes = checked(piece.Count * dtype.ElementSize());
                if (piece.Offset + bytes > shards[piece.Rank].Size)
                {
                    throw fields.Error(at + ".offset", $"bytes [{piece.Offset}, {piece.Offset + bytes}) run past the end of shard {piece.Rank} ({shards[piece.Rank].Size} bytes)");
                }

                covered = piece.End;
                pieces.Add(piece);
            }

            if (covered != numel)
            {
                throw fields.Error(path + ".pieces", $"tensor '{name}' has {numel} elements but its pieces cover only the first {covered}");
            }

            tensors.Add(new ManifestTensor(name, fields.Kind(node, "kind", path), shape, dtype, pieces));
        }

        return tensors;
    }

    /// <summary>Rejects shard names that could leave the step folder: '..', absolute paths, or anything not a valid object name.</summary>
    internal static void CheckRelativeName(JsonFields fields, string name, string path)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal))
        {
            throw fields.Error(path, $"'{name}' must be a plain file name inside the checkpoint's folder (no '..', '/', '\\' or absolute path)");
        }

        try
        {
            ObjectName.Validate(name);
        }
        catch (ArgumentException e)
        {
            throw fields.Error(path, e.Message);
        }
    }
}
