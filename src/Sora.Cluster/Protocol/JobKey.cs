using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Sora.Cluster.Protocol;

/// <summary>
/// The key every party of a job derives from the job token (HKDF-SHA256), and what it proves: an agent's registration,
/// the keys of each agent's session, and the key of the local commands the HTTP API sends. The token itself is never
/// kept here, sent or logged; <see cref="ToString"/> shows nothing of the key.
/// </summary>
public sealed class JobKey
{
    private const int KeyBytes = 32;
    private static readonly byte[] s_salt = Encoding.UTF8.GetBytes("sora-job-token");
    private static readonly byte[] s_info = Encoding.UTF8.GetBytes("sora control plane v1");

    private readonly byte[] _key;

    private JobKey(byte[] key) => _key = key;

    /// <summary>The key of the job whose token is <paramref name="token"/>.</summary>
    public static JobKey FromToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return new JobKey(HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(token), KeyBytes, s_salt, s_info));
    }

    /// <summary>A fresh random nonce (128 bits, hex).</summary>
    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>A registration of <paramref name="node"/> with a fresh nonce and its proof (an agent sends a new one each time it tries).</summary>
    public RegisterAgent Registration(string node, string host, int processesPerNode, int threads, string version)
    {
        var nonce = NewNonce();
        return new RegisterAgent(node, host, processesPerNode, threads, version, nonce, RegistrationProof(node, host, processesPerNode, threads, version, nonce));
    }

    /// <summary>The agent's end of the session <paramref name="accepted"/> opens for <paramref name="node"/>, or null when its proof does not verify (forged, or a coordinator with another token).</summary>
    public SessionChannel? Accept(AgentAccepted accepted, string node)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        if (accepted.Node != node)
        {
            return null;
        }

        var channel = Session(SessionSide.Agent, node, accepted.AgentNonce, accepted.Session);
        return channel.Verify(accepted.Proof, accepted.ProvenFields()) ? channel : null;
    }

    /// <summary>What proves that a registration comes from a holder of the token (an HMAC over every field it states).</summary>
    public string RegistrationProof(string node, string host, int processesPerNode, int threads, string version, string nonce) =>
        Convert.ToHexStringLower(Mac(_key, "register", node, host, Text(processesPerNode), Text(threads), version, nonce));

    /// <summary>Whether <paramref name="register"/> carries a valid proof (compared in constant time).</summary>
    public bool Verifies(RegisterAgent register)
    {
        ArgumentNullException.ThrowIfNull(register);
        return FixedTimeEquals(register.Proof, RegistrationProof(register.Node, register.Host, register.ProcessesPerNode, register.Threads, register.Version, register.Nonce));
    }

    /// <summary>
    /// The channel of one agent session, as <paramref name="side"/> sees it: its keys come from the job key, the node
    /// and both nonces, so a replayed registration (an old agent nonce) gains nothing without the token.
    /// </summary>
    public SessionChannel Session(SessionSide side, string node, string agentNonce, string session)
    {
        var secret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, KeyBytes, Encoding.UTF8.GetBytes(agentNonce + ":" + session), Encoding.UTF8.GetBytes("sora session v1\0" + node));
        var toCoordinator = HKDF.Expand(HashAlgorithmName.SHA256, secret, KeyBytes, Encoding.UTF8.GetBytes("agent to coordinator"));
        var toAgent = HKDF.Expand(HashAlgorithmName.SHA256, secret, KeyBytes, Encoding.UTF8.GetBytes("coordinator to agent"));
        return side == SessionSide.Agent
            ? new SessionChannel(node, CoordinatorName, session, toCoordinator, toAgent)
            : new SessionChannel(CoordinatorName, node, session, toAgent, toCoordinator);
    }

    /// <summary>The channel of the commands local callers (the HTTP API, <c>sora bench</c>) send the coordinator; the coordinator opens them with its own.</summary>
    public SessionChannel Commands(SessionSide side)
    {
        var key = HKDF.Expand(HashAlgorithmName.SHA256, _key, KeyBytes, Encoding.UTF8.GetBytes("local commands"));
        return side == SessionSide.Agent
            ? new SessionChannel(CommandSender, CoordinatorName, CommandSender, key, key)
            : new SessionChannel(CoordinatorName, CommandSender, CommandSender, key, key);
    }

    /// <summary>Who sends commands (the <see cref="SealedMessage.From"/> of a command).</summary>
    public const string CommandSender = "local-commands";

    /// <summary>The <see cref="SealedMessage.From"/> of what the coordinator sends.</summary>
    public const string CoordinatorName = "coordinator";

    public override string ToString() => "JobKey(hidden)";

    internal static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    /// <summary>HMAC-SHA256 over length-prefixed UTF-8 fields, then <paramref name="body"/> (no two inputs give the same bytes).</summary>
    internal static byte[] Mac(byte[] key, ReadOnlySpan<byte> body, params string[] fields)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        Span<byte> length = stackalloc byte[4];
        foreach (var field in fields)
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            hmac.AppendData(length);
            hmac.AppendData(bytes);
        }

        BinaryPrimitives.WriteInt32BigEndian(length, body.Length);
        hmac.AppendData(length);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    internal static byte[] Mac(byte[] key, params string[] fields) => Mac(key, [], fields);

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Which end of a session a <see cref="SessionChannel"/> is.</summary>
public enum SessionSide
{
    /// <summary>The agent (or, for commands, the local caller).</summary>
    Agent,

    /// <summary>The coordinator.</summary>
    Coordinator,
}
