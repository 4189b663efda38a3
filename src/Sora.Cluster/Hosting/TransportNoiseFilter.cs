using Akka.Event;

namespace Sora.Cluster.Hosting;

/// <summary>
/// Drops the two lines Akka.Remote logs when a peer's TCP connection closes: the endpoint writer's <c>ERROR Disassociated</c>
/// with an <c>EndpointDisassociatedException</c> stack trace, and the <c>WARNING Association with remote system … has
/// failed; address is now gated</c> that comes with it. Both appear when an agent's actor system ends, even after it left
/// the cluster gracefully (seen in one of four 2-host runs of a job that ended normally), and after every process a fault
/// kills. The control plane reports each loss itself, in words that name the node and the rank
/// ("node 'host2' is unreachable", "rank 1 on node 'host1' failed: signal 9"), so these say nothing a user needs and an
/// ERROR with a stack trace reads as something wrong. Every other remoting line (an oversized message, a refused
/// association, a quarantine) still shows.
/// </summary>
public sealed class TransportNoiseFilter : LogFilterBase
{
    /// <summary>The exception Akka.Remote raises when a peer's connection closes.</summary>
    public const string DisassociatedException = "Akka.Remote.EndpointDisassociatedException";

    /// <summary>The filter, as Akka takes it (an actor-system setup).</summary>
    public static LogFilterSetup Setup { get; } = new LogFilterBuilder().Add(new TransportNoiseFilter()).Build();

    /// <inheritdoc />
    public override LogFilterType FilterType => LogFilterType.Content;

    /// <inheritdoc />
    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        // The event's own message, not the expanded text (which may carry the cause and its stack trace too).
        var message = content.Message?.ToString() ?? expandedMessage ?? string.Empty;
        return IsNoise(message, content is Error { Cause: { } cause } ? cause : null) ? LogFilterDecision.Drop : LogFilterDecision.Keep;
    }

    private static bool IsNoise(string message, Exception? cause) =>
        (message == "Disassociated" && (cause is null || cause.GetType().FullName == DisassociatedException))
        || (message.StartsWith("Association with remote system ", StringComparison.Ordinal) && message.Contains($"Reason is: [{DisassociatedException}", StringComparison.Ordinal));
}
