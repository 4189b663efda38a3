using System.Runtime.Serialization;
using Akka.Configuration;
using Akka.Serialization;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Tests.Protocol;

/// <summary>
/// Every message between coordinator and agents survives the way it travels, built the way the code builds them
/// (collection expressions included): the four wire types through the control plane's serializer, every other one
/// sealed and opened in a session. Nothing else gets through the serializer.
/// </summary>
public sealed class AgentMessagesTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(ControlPlaneSerializer.Hocon))
{
    private static readonly JobKey Key = JobKey.FromToken("token");

    public static TheoryData<object> WireMessages() => new()
    {
        Key.Registration("host1", "10.0.0.2", 2, 4, "1.0"),
        new AgentAccepted("host1", "job", "nonce", "session", 10.5, "proof"),
        new AgentRejected("host1", "node name taken", Retryable: true),
        new AgentRejected("host1", "wrong job token"),
        Key.Commands(SessionSide.Agent).Seal(new StopJob("sora stop")),
    };

    public static TheoryData<object> SealedMessages() => new()
    {
        new StartRound(3, [new RankAssignment(2, 0), new RankAssignment(3, 1)], 4, "10.0.0.1", 29401, "name: job", "job", ["--parallel", "fsdp", "--resume", "latest"], null),
        new StartRound(3, [new RankAssignment(0, 0)], 1, "10.0.0.1", 29401, "name: job", "job", [], new StoreMarker("/store/control/round-3.nonce", "abc")),
        new StopRound(3, "rank 1 failed", Checkpoint: true),
        new JobEnded(false, "budget spent"),
        new RoundRefused("host1", 3, "data.path is missing"),
        new AgentHeartbeat("host1", 3, [new WorkerReport(2, 100, "running", "dit", 40, 100, 0.3, 0.25, 0.4, 1 << 28)]),
        new AgentHeartbeat("host1", 3, [new WorkerReport(0, 101, "running", "dit", 40, 100, 0.1, 0.25, 0.4, 1 << 28)
        {
            Metrics = new RankMetrics
            {
                Stage = "dit", Step = 40, TotalSteps = 100, StepsTotal = 50, SamplesTotal = 400, Loss = 0.25, HeldOutLoss = 0.3, HeldOutStep = 40,
                StepSeconds = 0.1, CommunicationSeconds = 0.02, PeakFlopsPerSecond = 1e11, CheckpointSaveStep = 25, CheckpointSaveBytes = 1 << 20,
                RecentSteps = [39, 40], RecentStepSeconds = [0.1, 0.11], RecentLosses = [0.3, double.NaN],
            },
        }]),
        new AgentHeartbeat("host1", 3, [new WorkerReport(0, 101, "running", "vae", 1, 10, 0.1, null, null, 0) { Metrics = new RankMetrics() }]),
        new SampleVideoWritten("host1", 3, new SampleVideo(0, "a red circle", 40, "video/mp4", [0, 0, 0, 24, 102, 116, 121, 112])),
        new WorkerExited("host1", 3, 2, 137, false, "last\nlines", "/logs/rank-2.log") { Stopped = new WorkerStopped("dit", 40, true, "stop"), Error = "data.path is missing" },
        new StopJob("sora stop"),
        GetStatus.Instance,
    };

    [Theory]
    [MemberData(nameof(WireMessages))]
    public void A_wire_message_reads_back_equal_through_the_control_planes_serializer(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        serializer.Should().BeOfType<ControlPlaneSerializer>("it takes the place of Akka's JSON serializer");
        var manifest = ManifestFor(serializer, message);
        var back = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
        back.Should().BeOfType(message.GetType());
        back.Should().BeEquivalentTo(message, o => o.RespectingRuntimeTypes());
    }

    [Theory]
    [MemberData(nameof(SealedMessages))]
    public void A_message_reads_back_equal_after_it_was_sealed_serialized_and_opened(object message)
    {
        var agent = Key.Session(SessionSide.Agent, "host1", "agent-nonce", "session");
        var coordinator = Key.Session(SessionSide.Coordinator, "host1", "agent-nonce", "session");
        var (sender, receiver) = message is StartRound or StopRound or JobEnded ? (coordinator, agent) : (agent, coordinator);
        var sealedMessage = sender.Seal(message);
        var serializer = Sys.Serialization.FindSerializerFor(sealedMessage);
        var wire = (SealedMessage)Sys.Serialization.Deserialize(serializer.ToBinary(sealedMessage), serializer.Identifier, ManifestFor(serializer, sealedMessage));

        var back = receiver.Open(wire);
        back.Should().BeOfType(message.GetType());
        if (message is not GetStatus)
        {
            back.Should().BeEquivalentTo(message, o => o.RespectingRuntimeTypes());
        }

        sealedMessage.ToString().Should().NotContain("a red circle").And.NotContain("budget", "a sealed message names its type, never its content");
    }

    [Theory]
    [InlineData("StopJob")]
    [InlineData("WorkerExited")]
    [InlineData("Sora.Cluster.Coordinator.JobCoordinator+Loaded, Sora.Cluster")]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process")]
    public void Nothing_but_the_protocols_wire_types_is_read_from_the_network(string manifest)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new AgentRejected("x", "y"));
        FluentActions.Invoking(() => serializer.FromBinary("{\"Reason\":\"x\"}"u8.ToArray(), manifest))
            .Should().Throw<SerializationException>().WithMessage("*not a message of the control plane's protocol*");
    }

    [Fact]
    public void Malformed_bytes_for_a_sealed_message_are_refused_not_read_past_their_end()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new AgentRejected("x", "y"));
        var bytes = serializer.ToBinary(Key.Commands(SessionSide.Agent).Seal(new StopJob("x")));
        foreach (var length in new[] { 0, 1, bytes.Length / 2, bytes.Length - 1 })
        {
            FluentActions.Invoking(() => serializer.FromBinary(bytes[..length], nameof(SealedMessage))).Should().Throw<SerializationException>();
        }
    }

    private static string ManifestFor(Serializer serializer, object message) => serializer is SerializerWithStringManifest withManifest ? withManifest.Manifest(message) : "";
}
