using Akka.Event;
using System.Reflection;
using Sora.Cluster.Hosting;

namespace Sora.Cluster.Tests.Hosting;

/// <summary>
/// What Akka's logging keeps of remoting's lines through the control plane's filter (evaluated by Akka's own
/// <see cref="LogFilterEvaluator"/>, as its loggers do): a closed peer connection's ERROR and WARNING go, every other
/// line stays.
/// </summary>
public class TransportNoiseFilterTests
{
    private const string WriterSource = "akka://sora/system/endpointManager/reliableEndpointWriter-akka.tcp%3A%2F%2Fsora%4010.0.0.3%3A39901-1/endpointWriter";

    // Akka.Remote's own exception (internal to it), as its endpoint writer raises it.
    private static Exception Disassociated() =>
        (Exception)Activator.CreateInstance(typeof(Akka.Remote.RemoteTransportException).Assembly.GetType(TransportNoiseFilter.DisassociatedException, throwOnError: true)!,
            BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, ["Disassociated"], null)!;

    private static bool Kept(LogEvent evt) => TransportNoiseFilter.Setup.CreateEvaluator().ShouldTryKeepMessage(evt, out _);

    [Fact]
    public void A_closed_peer_connections_error_and_warning_are_dropped()
    {
        Kept(new Error(Disassociated(), WriterSource, typeof(object), "Disassociated")).Should().BeFalse();
        Kept(new Warning(WriterSource, typeof(object),
                "Association with remote system akka.tcp://sora@10.0.0.3:39901 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.EndpointDisassociatedException: Disassociated\n   at Akka.Remote.EndpointWriter.PublishAndThrow(...)]"))
            .Should().BeFalse();
    }

    [Fact]
    public void Every_other_line_is_kept()
    {
        Kept(new Error(new InvalidOperationException("boom"), WriterSource, typeof(object), "Disassociated")).Should().BeTrue("another cause is not a closed connection");
        Kept(new Error(null, WriterSource, typeof(object), "Discarding oversized payload sent to akka.tcp://sora@10.0.0.3:39901: max allowed size 1000000 bytes")).Should().BeTrue();
        Kept(new Warning(WriterSource, typeof(object), "Association with remote system akka.tcp://sora@10.0.0.3:39901 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.InvalidAssociation: refused]"))
            .Should().BeTrue("a refused association is worth a look");
        Kept(new Warning("Akka.Remote.PhiAccrualFailureDetector", typeof(object), "heartbeat interval is growing too large for address akka.tcp://sora@10.0.0.3:46513: 2906 millis")).Should().BeTrue();
        Kept(new Error(null, "akka://sora/user/coordinator", typeof(object), "the coordinator failed")).Should().BeTrue();
    }
}
