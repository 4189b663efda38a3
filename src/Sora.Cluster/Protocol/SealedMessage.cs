namespace Sora.Cluster.Protocol;

/// <summary>
/// A message between an agent and the coordinator (or a local command), authenticated: <paramref name="Body"/> is the
/// message (<see cref="ProtocolJson"/>, named by <paramref name="Type"/>), <paramref name="Mac"/> an HMAC-SHA256 under
/// the session's key for this direction over every other field. See <see cref="SessionChannel"/>.
/// </summary>
/// <param name="From">The sender: a node's name, <see cref="JobKey.CoordinatorName"/> or <see cref="JobKey.CommandSender"/>.</param>
/// <param name="Session">The session's id.</param>
/// <param name="Sequence">Grows by one with each message of the session and direction; a number at or below the last one taken is a replay.</param>
/// <param name="Type">The message's type name.</param>
/// <param name="Body">The message.</param>
/// <param name="Mac">The authentication code.</param>
public sealed record SealedMessage(string From, string Session, long Sequence, string Type, byte[] Body, byte[] Mac)
{
    /// <summary>Names the message, never its content.</summary>
    public override string ToString() => $"SealedMessage({Type} from {From}, session {Session}, #{Sequence}, {Body?.Length ?? 0} bytes)";
}
