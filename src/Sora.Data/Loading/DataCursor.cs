using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sora.Data.Loading;

/// <summary>
/// The one global position in a dataset's sample stream that a checkpoint stores: the same on every rank and
/// independent of the world size, so a run written by N ranks resumes on M ranks at exactly the next sample.
/// </summary>
/// <param name="Seed">Seed of the sample order.</param>
/// <param name="ShardWindow">Shards shuffled together (part of the order; see <see cref="SampleOrder"/>).</param>
/// <param name="Fingerprint">The dataset's <see cref="DatasetFingerprint"/> when the cursor was written.</param>
/// <param name="Epoch">The epoch the next sample comes from.</param>
/// <param name="SamplesConsumed">Samples of that epoch already consumed by all ranks together.</param>
public sealed record DataCursor(ulong Seed, int ShardWindow, string Fingerprint, long Epoch, long SamplesConsumed)
{
    /// <summary>The JSON a checkpoint stores: {"epoch":…,"samples_consumed":…,"seed":…,"shard_window":…,"fingerprint":"sha256:…"}.</summary>
    public string ToJson() => new JsonObject
    {
        ["epoch"] = Epoch,
        ["samples_consumed"] = SamplesConsumed,
        ["seed"] = Seed,
        ["shard_window"] = ShardWindow,
        ["fingerprint"] = Fingerprint,
    }.ToJsonString();

    /// <summary>Parses <see cref="ToJson"/>'s output; throws <see cref="FormatException"/> naming the missing or bad field.</summary>
    public static DataCursor FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("data cursor: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"data cursor: not valid JSON ({e.Message})", e);
        }

        T Field<T>(string name)
        {
            if (root[name] is not JsonValue value)
            {
                throw new FormatException($"data cursor: field '{name}' is missing");
            }

            try
            {
                return value.GetValue<T>();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new FormatException($"data cursor: field '{name}' must be a {typeof(T).Name}, got {value.ToJsonString()}", e);
            }
        }

        var cursor = new DataCursor(Field<ulong>("seed"), Field<int>("shard_window"), Field<string>("fingerprint"), Field<long>("epoch"), Field<long>("samples_consumed"));
        if (cursor.Epoch < 0 || cursor.SamplesConsumed < 0)
        {
            throw new FormatException($"data cursor: epoch ({cursor.Epoch}) and samples_consumed ({cursor.SamplesConsumed}) must be >= 0");
        }

        return cursor;
    }
}
