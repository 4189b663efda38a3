using Sora.Cluster.Protocol;

namespace Sora.Cluster.Tests.Protocol;

/// <summary>Sessions sealed with keys from the job token: what opens, and what is refused (forged, altered, replayed, reflected, another session's).</summary>
public sealed class SessionChannelTests
{
    private static readonly JobKey Key = JobKey.FromToken("token");

    [Fact]
    public void A_sealed_message_opens_once_in_order_and_only_in_its_session_and_direction()
    {
        var (agent, coordinator) = Session("nonce-1", "session-1");
        var first = agent.Seal(new StopRound(1, "a", false));
        var second = agent.Seal(new StopRound(2, "b", false));
        coordinator.Open(second).Should().Be(new StopRound(2, "b", false));
        coordinator.Open(first).Should().BeNull("its sequence number is not newer: a replay, or overtaken");
        coordinator.Open(second).Should().BeNull("the same message again is a replay");
        agent.Open(agent.Seal(new StopRound(3, "c", false))).Should().BeNull("a message cannot be reflected back to its sender");

        var (_, other) = Session("nonce-2", "session-2");
        other.Open(agent.Seal(new StopRound(4, "d", false))).Should().BeNull("another session's");
        coordinator.Refused.Should().Be(2);
        agent.Refused.Should().Be(1);
    }

    [Fact]
    public void Altering_any_field_of_a_sealed_message_makes_it_refused()
    {
        var (agent, _) = Session("nonce", "session");
        var sealedMessage = agent.Seal(new WorkerExited("a", 1, 0, 0, true, "", ""));
        var altered = new[]
        {
            sealedMessage with { Body = [.. sealedMessage.Body.Select((b, i) => i == 20 ? (byte)(b ^ 1) : b)] },
            sealedMessage with { From = "b" },
            sealedMessage with { Type = nameof(JobEnded) },
            sealedMessage with { Sequence = sealedMessage.Sequence + 1 },
            sealedMessage with { Mac = new byte[32] },
        };
        foreach (var message in altered)
        {
            Session("nonce", "session").Coordinator.Open(message).Should().BeNull(message.ToString());
        }

        Session("nonce", "session").Coordinator.Open(sealedMessage).Should().NotBeNull();
    }

    [Fact]
    public void Keys_come_from_the_token_so_another_token_opens_nothing_and_proves_nothing()
    {
        var (agent, _) = Session("nonce", "session");
        var guess = JobKey.FromToken("guess").Session(SessionSide.Coordinator, "a", "nonce", "session");
        guess.Open(agent.Seal(new AgentHeartbeat("a", 0, []))).Should().BeNull();

        var registration = Key.Registration("a", "10.0.0.2", 2, 4, "1.0");
        Key.Verifies(registration).Should().BeTrue();
        JobKey.FromToken("guess").Verifies(registration).Should().BeFalse();
        Key.Verifies(registration with { Host = "10.9.9.9" }).Should().BeFalse();
        Key.ToString().Should().NotContain("token");
    }

    [Fact]
    public void An_acceptance_is_taken_only_with_the_coordinators_proof_for_this_node()
    {
        var coordinator = Key.Session(SessionSide.Coordinator, "a", "nonce", "session");
        var accepted = new AgentAccepted("a", "job", "nonce", "session", 10, "");
        var proven = accepted with { Proof = coordinator.Sign(accepted.ProvenFields()) };
        Key.Accept(proven, "a").Should().NotBeNull();
        Key.Accept(proven, "b").Should().BeNull("it names another node");
        Key.Accept(proven with { CoordinatorTimeoutSeconds = 1000 }, "a").Should().BeNull("the proof covers every field");
        JobKey.FromToken("guess").Accept(proven, "a").Should().BeNull();
    }

    private static (SessionChannel Agent, SessionChannel Coordinator) Session(string nonce, string session) =>
        (Key.Session(SessionSide.Agent, "a", nonce, session), Key.Session(SessionSide.Coordinator, "a", nonce, session));
}
