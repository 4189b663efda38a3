using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Sora.Cluster.Protocol;

/// <summary>
/// The only serializer of user messages between control-plane processes; it replaces Akka's default JSON serializer
/// (same name and id), so that what another process can make an actor here receive is one of four types:
/// <see cref="RegisterAgent"/>, <see cref="AgentAccepted"/> and <see cref="AgentRejected"/> (JSON), and
/// <see cref="SealedMessage"/> (its fields as length-prefixed bytes: the body travels as it was sealed). Akka's JSON
/// serializer would turn any type a peer names into an object, private ones included (a forged "the store was fenced"
/// or "worker exited" to an actor's own mailbox); this one refuses every other name, and checks every length against
/// what is left, so malformed bytes fail with <see cref="SerializationException"/> and remoting drops them.
/// (Akka's own messages have their own serializers and are not affected.)
/// </summary>
public sealed class ControlPlaneSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The name and id of Akka's default JSON serializer, which this one takes the place of.</summary>
    public const string Name = "json";

    /// <summary>See <see cref="Name"/>.</summary>
    public const int Id = 1;

    private const int MaxFieldBytes = 1 << 10;
    private const int MaxBodyBytes = 16 << 20;
    private const int MaxJsonBytes = 64 << 10;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General);

    /// <summary>What Akka calls when the serializer's name has settings (Akka's own <c>serialization-settings.json</c>, meant for the serializer this one replaces).</summary>
    public ControlPlaneSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings)
        : this(system)
    {
        _ = settings;
    }

    private static readonly Dictionary<string, Type> s_jsonTypes = new[] { typeof(RegisterAgent), typeof(AgentAccepted), typeof(AgentRejected) }
        .ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The HOCON that puts this serializer in the place of Akka's default JSON serializer.</summary>
    public static string Hocon => $$"""
        akka.actor.serializers.{{Name}} = "{{typeof(ControlPlaneSerializer).FullName}}, {{typeof(ControlPlaneSerializer).Assembly.GetName().Name}}"
        akka.actor.serialization-identifiers."{{typeof(ControlPlaneSerializer).FullName}}, {{typeof(ControlPlaneSerializer).Assembly.GetName().Name}}" = {{Id}}
        """;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        SealedMessage => nameof(SealedMessage),
        _ when o is not null && s_jsonTypes.TryGetValue(o.GetType().Name, out var type) && type == o.GetType() => type.Name,
        _ => throw new ArgumentException($"{o?.GetType().FullName} is not a message of the control plane's protocol: only RegisterAgent, AgentAccepted, AgentRejected and SealedMessage travel between processes", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        SealedMessage message => Write(message),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, s_jsonTypes[Manifest(obj)], s_json),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            if (manifest == nameof(SealedMessage))
            {
                return Read(bytes);
            }

            if (manifest is not null && s_jsonTypes.TryGetValue(manifest, out var type) && bytes.Length <= MaxJsonBytes)
            {
                return JsonSerializer.Deserialize(bytes, type, s_json) ?? throw new SerializationException($"an empty {manifest}");
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException or ArgumentException or JsonException or NotSupportedException)
        {
            throw new SerializationException($"not a valid {manifest}: {e.Message}", e);
        }

        throw new SerializationException($"'{manifest}' is not a message of the control plane's protocol: dropped");
    }

    private static byte[] Write(SealedMessage message)
    {
        using var stream = new MemoryStream(message.Body.Length + 256);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(message.From);
            writer.Write(message.Session);
            writer.Write(message.Sequence);
            writer.Write(message.Type);
            writer.Write(message.Body.Length);
            writer.Write(message.Body);
            writer.Write(message.Mac.Length);
            writer.Write(message.Mac);
        }

        return stream.ToArray();
    }

    private static SealedMessage Read(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        var from = Text(reader);
        var session = Text(reader);
        var sequence = reader.ReadInt64();
        var type = Text(reader);
        var body = Bytes(reader, MaxBodyBytes);
        var mac = Bytes(reader, MaxFieldBytes);
        return reader.BaseStream.Position == bytes.Length ? new SealedMessage(from, session, sequence, type, body, mac) : throw new FormatException("trailing bytes");
    }

    private static string Text(BinaryReader reader)
    {
        var text = reader.ReadString();
        return text.Length <= MaxFieldBytes ? text : throw new FormatException("a field is too long");
    }

    private static byte[] Bytes(BinaryReader reader, int max)
    {
        var length = reader.ReadInt32();
        return length >= 0 && length <= max && length <= reader.BaseStream.Length - reader.BaseStream.Position
            ? reader.ReadBytes(length)
            : throw new FormatException($"a field declares {length} bytes");
    }
}
