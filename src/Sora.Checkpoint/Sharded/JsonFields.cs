using System.Text.Json;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Formats;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Typed reads of a parsed JSON checkpoint object whose failures name the object and the field path
/// (e.g. <c>checkpoints/step-000000010/manifest.json: field 'tensors[3].pieces[1].offset': expected an integer</c>).
/// </summary>
internal readonly struct JsonFields(string objectName)
{
    public string ObjectName { get; } = objectName;

    public JsonObject Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonNode.Parse(utf8) as JsonObject ?? throw new CheckpointFormatException(ObjectName, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(ObjectName, $"not valid JSON: {e.Message}", e);
        }
    }

    public CheckpointFormatException Error(string path, string problem) => new(ObjectName, $"field '{path}': {problem}");

    public JsonNode Node(JsonObject parent, string field, string path) =>
        parent[field] ?? throw Error(Join(path, field), "missing");

    public JsonObject Object(JsonObject parent, string field, string path) =>
        Node(parent, field, path) as JsonObject ?? throw Error(Join(path, field), "expected an object");

    public JsonArray Array(JsonObject parent, string field, string path) =>
        Node(parent, field, path) as JsonArray ?? throw Error(Join(path, field), "expected an array");

    public string String(JsonObject parent, string field, string path) => AsString(Node(parent, field, path), Join(path, field));

    public long Long(JsonObject parent, string field, string path) => AsLong(Node(parent, field, path), Join(path, field));

    public int Int(JsonObject parent, string field, string path)
    {
        var value = Long(parent, field, path);
        return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Error(Join(path, field), $"{value} is out of range");
    }

    public string AsString(JsonNode? node, string path) =>
        node is JsonValue value && value.TryGetValue<string>(out var s) ? s : throw Error(path, "expected a string");

    public long AsLong(JsonNode? node, string path) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var n)
            ? n
            : throw Error(path, "expected an integer");

    /// <summary>A positive int, or null when the field is absent or null.</summary>
    public int? OptionalPositiveInt(JsonObject parent, string field, string path)
    {
        if (parent[field] is null)
        {
            return null;
        }

        var value = Int(parent, field, path);
        return value > 0 ? value : throw Error(Join(path, field), $"{value} is not positive");
    }

    public long NonNegative(JsonObject parent, string field, string path)
    {
        var value = Long(parent, field, path);
        return value >= 0 ? value : throw Error(Join(path, field), $"{value} is negative");
    }

    public ScalarType DType(JsonObject parent, string field, string path)
    {
        var code = String(parent, field, path);
        try
        {
            return SafeTensorsFile.ParseDType(code);
        }
        catch (InvalidDataException e)
        {
            throw Error(Join(path, field), e.Message);
        }
    }

    public long[] Shape(JsonObject parent, string field, string path)
    {
        var array = Array(parent, field, path);
        var shape = new long[array.Count];
        for (var i = 0; i < shape.Length; i++)
        {
            var at = $"{Join(path, field)}[{i}]";
            shape[i] = AsLong(array[i], at);
            if (shape[i] < 0)
            {
                throw Error(at, $"{shape[i]} is negative");
            }
        }

        return shape;
    }

    public TensorKind Kind(JsonObject parent, string field, string path)
    {
        var name = String(parent, field, path);
        return TensorKinds.Parse(name) ?? throw Error(Join(path, field), $"'{name}' is not one of model, optimizer, ema");
    }

    public Dictionary<string, byte[]> Base64Map(JsonObject parent, string field, string path)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, node) in Object(parent, field, path))
        {
            var at = $"{Join(path, field)}.{key}";
            try
            {
                result[key] = Convert.FromBase64String(AsString(node, at));
            }
            catch (FormatException e)
            {
                throw Error(at, $"not base64: {e.Message}");
            }
        }

        return result;
    }

    public static JsonObject ToBase64Map(IReadOnlyDictionary<string, byte[]> values) =>
        new(values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Convert.ToBase64String(kv.Value))));

    public static JsonArray ToArray(IEnumerable<long> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    public static string Join(string path, string field) => path.Length == 0 ? field : path + "." + field;
}
