using Akka.Actor;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>Who is in the job, without an actor: two-step joins, replays, names, losses and the hold-back of a node that keeps being lost.</summary>
public sealed class AgentRegistryTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
    private static readonly Address HostA = new("akka.tcp", "sora", "10.0.0.2", 4000);
    private static readonly Address HostB = new("akka.tcp", "sora", "10.0.0.3", 4000);

    private readonly JobKey _key = JobKey.FromToken("token");
    private readonly AgentRegistry _registry;

    public AgentRegistryTests() => _registry = new AgentRegistry(_key, "1.0");

    [Fact]
    public void An_agent_is_in_only_once_a_message_sealed_in_its_new_session_arrives()
    {
        var (agent, channel) = Register("a", CreateTestProbe().Ref, HostA, T0);
        _registry.Agents.Should().BeEmpty("a registration alone only opens a pending session");
        _registry.Candidates(T0).Should().BeEmpty();

        var opened = _registry.Open(channel.Seal(new AgentHeartbeat("a", 0, [])), T0)!;
        opened.Joined.Should().BeTrue();
        opened.Agent.Agent.Should().Be(agent);
        _registry.Open(channel.Seal(new AgentHeartbeat("a", 0, [])), T0)!.Joined.Should().BeFalse();
        _registry.Candidates(T0).Select(c => c.Node).Should().Equal("a");
    }

    [Fact]
    public void A_registration_with_a_wrong_proof_a_wrong_version_or_no_workers_is_refused()
    {
        var guess = JobKey.FromToken("guess").Registration("a", "10.0.0.2", 1, 1, "1.0");
        _registry.Register(guess, CreateTestProbe().Ref, HostA, "s1", T0).Refusal.Should().Contain("wrong job token");
        _registry.Register(_key.Registration("a", "10.0.0.2", 1, 1, "0.9"), CreateTestProbe().Ref, HostA, "s2", T0).Refusal.Should().Contain("version mismatch");
        _registry.Register(_key.Registration("a", "10.0.0.2", 0, 1, "1.0"), CreateTestProbe().Ref, HostA, "s3", T0).Refusal.Should().Contain("--nproc-per-node must be >= 1");

        var altered = _key.Registration("a", "10.0.0.2", 1, 1, "1.0") with { ProcessesPerNode = 8 };
        _registry.Register(altered, CreateTestProbe().Ref, HostA, "s4", T0).Refusal.Should().Contain("wrong job token", "the proof covers every field");
    }

    [Fact]
    public void A_replayed_registration_is_ignored_and_a_session_without_the_key_opens_nothing()
    {
        var registration = _key.Registration("a", "10.0.0.2", 1, 1, "1.0");
        _registry.Register(registration, CreateTestProbe().Ref, HostA, "s1", T0).Channel.Should().NotBeNull();
        _registry.Register(registration, CreateTestProbe().Ref, HostA, "s2", T0).Should().Be(Registration.Replay);

        // Whoever replays it learns the session's id, not its key.
        var forged = JobKey.FromToken("guess").Session(SessionSide.Agent, "a", registration.Nonce, "s1").Seal(new AgentHeartbeat("a", 0, []));
        _registry.Open(forged, T0).Should().BeNull();
        _registry.Agents.Should().BeEmpty();
        _registry.Refused.Should().Be(2);
    }

    [Fact]
    public void A_name_held_by_a_live_agent_is_refused_for_good_and_one_held_by_a_silent_agent_for_now()
    {
        Join("a", CreateTestProbe().Ref, HostA, T0);
        var twin = _registry.Register(_key.Registration("a", "10.0.0.3", 1, 1, "1.0"), CreateTestProbe().Ref, HostB, "s9", T0 + TimeSpan.FromSeconds(1));
        twin.Retryable.Should().BeFalse();
        twin.Refusal.Should().Contain("already taken by a live agent at akka.tcp://sora@10.0.0.2:4000").And.Contain("--node NAME");

        var later = _registry.Register(_key.Registration("a", "10.0.0.3", 1, 1, "1.0"), CreateTestProbe().Ref, HostB, "s10", T0 + TimeSpan.FromSeconds(10));
        later.Retryable.Should().BeTrue("the holder has been silent for 10 s: it may be gone and not yet detected");

        _registry.MarkUnreachable(HostA, T0 + TimeSpan.FromSeconds(11));
        _registry.Register(_key.Registration("a", "10.0.0.3", 1, 1, "1.0"), CreateTestProbe().Ref, HostB, "s11", T0 + TimeSpan.FromSeconds(11)).Channel.Should().NotBeNull();
    }

    [Fact]
    public void A_name_held_by_an_earlier_actor_system_of_the_same_host_is_refused_for_now()
    {
        // Seen in the chaos test: the coordinator restarted, the agent's old system was downed and it rejoined with a new
        // one, whose registration came while the old one's was still fresh. Refused for good, the agent exited and the job
        // waited for its node forever.
        Join("a", CreateTestProbe().Ref, HostA, T0);
        var rejoined = new Address("akka.tcp", "sora", "10.0.0.2", 4001);
        var again = _registry.Register(_key.Registration("a", "10.0.0.2", 1, 1, "1.0"), CreateTestProbe().Ref, rejoined, "s9", T0 + TimeSpan.FromSeconds(1));
        again.Retryable.Should().BeTrue("the old system of the same host is on its way out");
        again.Refusal.Should().Contain("earlier actor system of this host at akka.tcp://sora@10.0.0.2:4000");

        _registry.MarkUnreachable(HostA, T0 + TimeSpan.FromSeconds(2));
        _registry.Register(_key.Registration("a", "10.0.0.2", 1, 1, "1.0"), CreateTestProbe().Ref, rejoined, "s10", T0 + TimeSpan.FromSeconds(2)).Channel.Should().NotBeNull();
    }

    [Fact]
    public void An_agent_that_registers_again_keeps_its_place_and_a_new_agent_of_the_name_takes_a_new_one()
    {
        var a = CreateTestProbe().Ref;
        Join("a", a, HostA, T0);
        Join("b", CreateTestProbe().Ref, HostB, T0);
        var again = Join("a", a, HostA, T0);
        again.Previous.Should().NotBeNull();
        _registry.Candidates(T0).Select(c => c.Node).Should().Equal(["a", "b"], "the same agent (a restarted actor) keeps its rank order");

        _registry.Remove(a, T0).Should().NotBeNull();
        Join("a", CreateTestProbe().Ref, HostA, T0);
        _registry.Candidates(T0).Select(c => c.Node).Should().Equal(["b", "a"], "a new agent joins at the end");
    }

    [Fact]
    public void The_first_loss_is_free_and_each_further_one_within_the_window_holds_the_node_back_twice_as_long()
    {
        var now = T0;
        var agent = CreateTestProbe().Ref;
        Join("b", agent, HostB, now);
        for (var loss = 1; loss <= 4; loss++)
        {
            // Lost, and back at once: a crash-looping pod.
            _registry.Remove(agent, now).Should().NotBeNull();
            agent = CreateTestProbe().Ref;
            Join("b", agent, HostB, now);
            var held = loss == 1 ? TimeSpan.Zero : AgentRegistry.RejoinDelay * (1 << (loss - 2));
            _registry.AdmittedAt("b", now).Should().Be(loss == 1 ? DateTimeOffset.MinValue : now + held, $"after loss {loss}");
            _registry.Candidates(now).Should().HaveCount(loss == 1 ? 1 : 0);
            _registry.NextAdmission(now).Should().Be(loss == 1 ? null : now + held);
            _registry.Candidates(now + held).Should().ContainSingle("the hold-back ends");
            now += TimeSpan.FromSeconds(1);
        }

        _registry.AdmittedAt("b", now + AgentRegistry.LossWindow + TimeSpan.FromSeconds(10)).Should().Be(DateTimeOffset.MinValue, "old losses are forgotten");
    }

    [Fact]
    public void An_unreachable_agent_is_no_candidate_until_it_is_reachable_again()
    {
        Join("a", CreateTestProbe().Ref, HostA, T0);
        _registry.MarkUnreachable(HostA, T0).Select(a => a.Node).Should().Equal("a");
        _registry.MarkUnreachable(HostA, T0).Should().BeEmpty("it was already");
        _registry.Candidates(T0).Should().BeEmpty();
        _registry.MarkReachable(HostA).Select(a => a.Node).Should().Equal("a");
        _registry.Candidates(T0).Should().ContainSingle();
    }

    private (IActorRef Agent, SessionChannel Channel) Register(string node, IActorRef agent, Address address, DateTimeOffset now)
    {
        var registration = _key.Registration(node, address.Host!, 1, 1, "1.0");
        var session = JobKey.NewNonce();
        _registry.Register(registration, agent, address, session, now).Channel.Should().NotBeNull();
        return (agent, _key.Session(SessionSide.Agent, node, registration.Nonce, session));
    }

    private Opened Join(string node, IActorRef agent, Address address, DateTimeOffset now)
    {
        var (_, channel) = Register(node, agent, address, now);
        return _registry.Open(channel.Seal(new AgentHeartbeat(node, 0, [])), now)!;
    }
}
