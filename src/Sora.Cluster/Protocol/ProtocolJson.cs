using System.Text.Json;
using System.Text.Json.Serialization;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Protocol;

/// <summary>
/// The bytes of a sealed message's body: JSON of one of a closed set of message types, named by a short type name.
/// A name outside the set, or a body that does not read as its type, is no message (null): nothing from the wire is
/// ever turned into a type it names itself.
/// </summary>
public static class ProtocolJson
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly Dictionary<string, Type> s_types = new[]
    {
        // Agent → coordinator.
        typeof(AgentHeartbeat), typeof(WorkerExited), typeof(RoundRefused), typeof(SampleVideoWritten),

        // Coordinator → agent.
        typeof(StartRound), typeof(StopRound), typeof(JobEnded),

        // Local commands.
        typeof(StopJob), typeof(GetStatus),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The type name and body of <paramref name="message"/>; throws when its type is not one of the protocol's.</summary>
    public static (string Type, byte[] Body) Write(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var type = message.GetType();
        if (!s_types.TryGetValue(type.Name, out var known) || known != type)
        {
            throw new ArgumentException($"{type.FullName} is not a message of the control plane's protocol", nameof(message));
        }

        return (type.Name, JsonSerializer.SerializeToUtf8Bytes(message, type, s_json));
    }

    /// <summary>The message, or null when <paramref name="type"/> is unknown or <paramref name="body"/> does not read as it.</summary>
    public static object? Read(string type, byte[] body)
    {
        if (type is null || body is null || !s_types.TryGetValue(type, out var known))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, known, s_json);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
