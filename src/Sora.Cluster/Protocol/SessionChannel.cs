using System.Globalization;
using System.Security.Cryptography;

namespace Sora.Cluster.Protocol;

/// <summary>
/// One end of an authenticated channel (an agent's session with the coordinator, or the local commands): what it sends
/// is sealed with its sending key and the next sequence number (<see cref="Seal"/>); what it receives is opened only
/// when it names this session, its MAC verifies under the peer's key and its sequence number is newer than the last
/// one taken (<see cref="Open"/>). Anything else (forged, altered, replayed, another session's) is refused and counted.
/// Keys come from <see cref="JobKey"/>; the two directions have different keys, so a message cannot be reflected back.
/// </summary>
public sealed class SessionChannel
{
    private readonly byte[] _sendKey;
    private readonly byte[] _receiveKey;
    private long _sent;
    private long _received;

    internal SessionChannel(string self, string peer, string session, byte[] sendKey, byte[] receiveKey)
    {
        Self = self;
        Peer = peer;
        Session = session;
        _sendKey = sendKey;
        _receiveKey = receiveKey;
    }

    /// <summary>This end's name (a node, or <see cref="JobKey.CoordinatorName"/>): the <see cref="SealedMessage.From"/> of what it seals.</summary>
    public string Self { get; }

    /// <summary>The other end's name: what it opens must come from there.</summary>
    public string Peer { get; }

    /// <summary>The session's id (the coordinator's nonce; not secret).</summary>
    public string Session { get; }

    /// <summary>Messages refused so far.</summary>
    public long Refused { get; private set; }

    /// <summary>Seals <paramref name="message"/> (one of <see cref="ProtocolJson"/>'s types) for the peer.</summary>
    public SealedMessage Seal(object message)
    {
        var (type, body) = ProtocolJson.Write(message);
        var sequence = Interlocked.Increment(ref _sent);
        return new SealedMessage(Self, Session, sequence, type, body, MacOf(_sendKey, Self, Session, sequence, type, body));
    }

    /// <summary>The message inside <paramref name="sealedMessage"/>, or null when it is refused (see the class summary).</summary>
    public object? Open(SealedMessage sealedMessage)
    {
        ArgumentNullException.ThrowIfNull(sealedMessage);
        if (sealedMessage.From != Peer || sealedMessage.Session != Session || sealedMessage.Body is null || sealedMessage.Mac is null
            || !CryptographicOperations.FixedTimeEquals(sealedMessage.Mac, MacOf(_receiveKey, sealedMessage.From, sealedMessage.Session, sealedMessage.Sequence, sealedMessage.Type, sealedMessage.Body))
            || sealedMessage.Sequence <= _received)
        {
            Refused++;
            return null;
        }

        var message = ProtocolJson.Read(sealedMessage.Type, sealedMessage.Body);
        if (message is null)
        {
            Refused++;
            return null;
        }

        _received = sealedMessage.Sequence;
        return message;
    }

    /// <summary>A proof over <paramref name="fields"/> under this end's sending key.</summary>
    public string Sign(params string[] fields) => Convert.ToHexStringLower(JobKey.Mac(_sendKey, fields));

    /// <summary>Whether <paramref name="proof"/> is the peer's proof over <paramref name="fields"/>.</summary>
    public bool Verify(string proof, params string[] fields) =>
        proof is not null && JobKey.FixedTimeEquals(proof, Convert.ToHexStringLower(JobKey.Mac(_receiveKey, fields)));

    public override string ToString() => $"SessionChannel({Self} → {Peer}, session {Session})";

    private static byte[] MacOf(byte[] key, string from, string session, long sequence, string type, byte[] body) =>
        JobKey.Mac(key, body, "sealed v1", from, session, sequence.ToString(CultureInfo.InvariantCulture), type);
}
