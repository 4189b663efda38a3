using Akka.Actor;
using Akka.TestKit;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Tests.Harness;

/// <summary>
/// A TestKit probe that plays an agent towards a coordinator: it registers with the job key, opens its session, and
/// seals and opens messages as a real agent does (with <see cref="JobKey"/> and <see cref="SessionChannel"/>).
/// </summary>
internal sealed class AgentProbe(TestProbe probe, JobKey key, string node)
{
    public TestProbe Probe { get; } = probe;

    public IActorRef Ref => Probe.Ref;

    public string Node { get; } = node;

    /// <summary>The session, once the coordinator accepted it.</summary>
    public SessionChannel? Channel { get; private set; }

    /// <summary>The coordinator incarnation that accepted this agent.</summary>
    public IActorRef? Coordinator { get; private set; }

    /// <summary>The registration it sent last.</summary>
    public RegisterAgent? LastRegistration { get; private set; }

    /// <summary>Registers and expects a refusal.</summary>
    public AgentRejected RegisterRefused(IActorRef coordinator, int processes, string? version = null)
    {
        coordinator.Tell(key.Registration(Node, Host, processes, processes, version ?? "1.0"), Probe.Ref);
        return Probe.ExpectMsg<AgentRejected>();
    }

    /// <summary>Registers, opens the session, and sends its first sealed message (which takes it in).</summary>
    public AgentProbe Join(IActorRef coordinator, int processes)
    {
        var registration = key.Registration(Node, Host, processes, processes, "1.0");
        LastRegistration = registration;
        coordinator.Tell(registration, Probe.Ref);
        var accepted = Probe.FishForMessage<AgentAccepted>(a => a.AgentNonce == registration.Nonce, TimeSpan.FromSeconds(10));
        Channel = key.Accept(accepted, Node) ?? throw new InvalidOperationException("the coordinator's acceptance did not verify");
        Coordinator = Probe.LastSender;
        Send(new AgentHeartbeat(Node, 0, []));
        return this;
    }

    /// <summary>Seals <paramref name="message"/> in the session and sends it to the incarnation that accepted this agent.</summary>
    public void Send(object message) => Coordinator!.Tell(Channel!.Seal(message), Probe.Ref);

    /// <summary>The next message, which must be a sealed <typeparamref name="T"/> of this session.</summary>
    public T Expect<T>(TimeSpan? within = null)
    {
        var sealedMessage = Probe.ExpectMsg<SealedMessage>(within ?? TimeSpan.FromSeconds(5));
        return Channel!.Open(sealedMessage) is T message ? message : throw new InvalidOperationException($"expected a sealed {typeof(T).Name}, got {sealedMessage}");
    }

    /// <summary>Skips messages until a sealed <typeparamref name="T"/> of this session arrives.</summary>
    public T Fish<T>(TimeSpan? within = null) =>
        (T)Channel!.Open(Probe.FishForMessage<SealedMessage>(m => m.Type == typeof(T).Name, within ?? TimeSpan.FromSeconds(5)))!;

    public void ExpectNothing(TimeSpan? within = null) => Probe.ExpectNoMsg(within ?? TimeSpan.FromMilliseconds(300));

    private string Host => $"10.0.0.{(Node[0] - 'a' + 2) % 250}";
}

/// <summary>A TestKit probe that plays the coordinator towards an agent: it accepts registrations with the job key and seals what it sends.</summary>
internal sealed class CoordinatorProbe(TestProbe registry, JobKey key)
{
    /// <summary>Where the agent registers (its coordinator path).</summary>
    public TestProbe Registry { get; } = registry;

    /// <summary>Accepts the next registration, answering from <paramref name="incarnation"/>; returns the coordinator's end of the session.</summary>
    public SessionChannel Accept(TestProbe incarnation, double coordinatorTimeoutSeconds = 10)
    {
        var register = Registry.ExpectMsg<RegisterAgent>(TimeSpan.FromSeconds(20));
        var agent = Registry.LastSender;
        var session = JobKey.NewNonce();
        var channel = key.Session(SessionSide.Coordinator, register.Node, register.Nonce, session);
        var accepted = new AgentAccepted(register.Node, "job", register.Nonce, session, coordinatorTimeoutSeconds, "");
        agent.Tell(accepted with { Proof = channel.Sign(accepted.ProvenFields()) }, incarnation.Ref);
        Agent = agent;
        return channel;
    }

    /// <summary>The agent that registered last.</summary>
    public IActorRef? Agent { get; private set; }

    /// <summary>Skips messages on <paramref name="incarnation"/> until a sealed <typeparamref name="T"/> that <paramref name="channel"/> opens arrives.</summary>
    public static T Fish<T>(TestProbe incarnation, SessionChannel channel, TimeSpan within, Func<T, bool>? where = null)
    {
        T? found = default;
        incarnation.FishForMessage<SealedMessage>(m => m.Type == typeof(T).Name && channel.Open(m) is T message && (where?.Invoke(message) ?? true) && (found = message) is not null, within);
        return found!;
    }
}
