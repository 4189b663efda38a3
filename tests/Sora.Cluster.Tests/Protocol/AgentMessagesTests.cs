using Akka.Actor;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Tests.Protocol;

/// <summary>Every message between coordinator and agents survives the serializer Akka remoting uses for it, built the way the code builds them (collection expressions included).</summary>
public sealed class AgentMessagesTests : Akka.TestKit.Xunit2.TestKit
{
    public static TheoryData<object> Messages() => new()
    {
        new RegisterAgent("host1", "10.0.0.2", 2, 4, "digest", "1.0", ActorRefs.Nobody),
        new AgentAccepted("host1", "job"),
        new AgentRejected("host1", "node name taken", Retryable: true),
        new AgentRejected("host1", "wrong job token"),
        new StartRound(3, [new RankAssignment(2, 0), new RankAssignment(3, 1)], 4, "10.0.0.1", 29401, "name: job", "job", ["--parallel", "fsdp", "--resume", "latest"]),
        new StopRound(3, "rank 1 failed", Checkpoint: true),
        new JobEnded(false, "budget spent"),
        new AgentHeartbeat("host1", 3, [new WorkerReport(2, 100, "running", "dit", 40, 100, 0.3, 0.25, 0.4, 1 << 28)]),
        new AgentHeartbeat("host1", 3, [new WorkerReport(0, 101, "running", "dit", 40, 100, 0.1, 0.25, 0.4, 1 << 28)
        {
            Metrics = new RankMetrics
            {
                Stage = "dit", Step = 40, TotalSteps = 100, StepsTotal = 50, SamplesTotal = 400, Loss = 0.25, HeldOutLoss = 0.3, HeldOutStep = 40,
                StepSeconds = 0.1, CommunicationSeconds = 0.02, PeakFlopsPerSecond = 1e11, CheckpointSaveStep = 25, CheckpointSaveBytes = 1 << 20,
                RecentSteps = [39, 40], RecentStepSeconds = [0.1, 0.11], RecentLosses = [0.3, 0.25],
            },
        }]),
        new AgentHeartbeat("host1", 3, [new WorkerReport(0, 101, "running", "vae", 1, 10, 0.1, null, null, 0) { Metrics = new RankMetrics() }]),
        new SampleVideoWritten("host1", 3, new SampleVideo(0, "a red circle", 40, "video/mp4", [0, 0, 0, 24, 102, 116, 121, 112])),
        new WorkerExited("host1", 3, 2, 137, false, "last\nlines", "/logs/rank-2.log") { Stopped = new WorkerStopped("dit", 40, true, "stop") },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_message_reads_back_equal_after_serialization(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var back = serializer.FromBinary(bytes, message.GetType());

        back.Should().BeOfType(message.GetType());
        back.Should().BeEquivalentTo(message, o => o.RespectingRuntimeTypes().Excluding(m => m.Path.EndsWith("Agent", StringComparison.Ordinal)));
    }
}
