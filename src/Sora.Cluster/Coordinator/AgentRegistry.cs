using Akka.Actor;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// Who is in the job, as the coordinator knows it: each agent's registration, session, arrival order (node ranks follow
/// it), reachability and last message, and which nodes may take part in the next round. Actor-free: the coordinator
/// passes in the clock and the actor references, so everything here is tested on its own.
/// <para>
/// Joining takes two steps. A registration whose proof verifies opens a <em>pending</em> session; the agent is in once
/// a message sealed in that session arrives (<see cref="Open"/>). A replayed registration (its nonce was seen) is
/// ignored, and one replayed across a coordinator restart opens a session nobody without the token can use.
/// </para>
/// <para>
/// A node that was lost more than once within <see cref="LossWindow"/> is held back before it may take part again:
/// <see cref="RejoinDelay"/> after its last loss, doubling with each further loss, at most <see cref="MaxRejoinDelay"/>
/// (the first loss is free: a node that restarts once rejoins at once). A crash-looping agent therefore cannot keep
/// re-forming the group.
/// </para>
/// </summary>
public sealed class AgentRegistry(JobKey key, string version)
{
    /// <summary>An agent whose last message is younger than this is alive: a second agent may not take its name.</summary>
    public static readonly TimeSpan AliveWithin = TimeSpan.FromSeconds(3);

    /// <summary>Losses older than this are forgotten.</summary>
    public static readonly TimeSpan LossWindow = TimeSpan.FromMinutes(10);

    /// <summary>The hold-back after a node's second loss within <see cref="LossWindow"/>.</summary>
    public static readonly TimeSpan RejoinDelay = TimeSpan.FromSeconds(15);

    /// <summary>The longest hold-back.</summary>
    public static readonly TimeSpan MaxRejoinDelay = TimeSpan.FromMinutes(5);

    private const int MaxPendingPerNode = 4;
    private const int MaxNoncesKept = 100_000;

    private readonly Dictionary<string, AgentEntry> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PendingSession>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DateTimeOffset>> _losses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nonces = new(StringComparer.Ordinal);
    private readonly Queue<string> _nonceOrder = new();
    private long _joinOrder;

    /// <summary>The agents in the job, in arrival order.</summary>
    public IEnumerable<AgentEntry> Agents => _agents.Values.OrderBy(a => a.JoinOrder);

    /// <summary>Messages refused as forged, replayed or of an unknown session.</summary>
    public long Refused { get; private set; }

    /// <summary>The agent of <paramref name="node"/>, or null.</summary>
    public AgentEntry? Find(string node) => _agents.GetValueOrDefault(node);

    /// <summary>
    /// Checks a registration from <paramref name="sender"/> and, when it is sound, opens a pending session
    /// <paramref name="session"/> for it (a fresh random id from the caller).
    /// </summary>
    public Registration Register(RegisterAgent register, IActorRef sender, Address address, string session, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(register);
        ArgumentNullException.ThrowIfNull(sender);
        if (!key.Verifies(register))
        {
            return Registration.Refuse("wrong job token: the agent must use the token of this job (SORA_JOB_TOKEN or --token-file)");
        }

        if (!_nonces.Add(register.Nonce))
        {
            Refused++;
            return Registration.Replay;
        }

        _nonceOrder.Enqueue(register.Nonce);
        if (_nonceOrder.Count > MaxNoncesKept)
        {
            _nonces.Remove(_nonceOrder.Dequeue());
        }

        if (register.Version != version)
        {
            return Registration.Refuse($"version mismatch: the agent runs sora {register.Version}, the coordinator {version}");
        }

        if (register.ProcessesPerNode < 1)
        {
            return Registration.Refuse($"--nproc-per-node must be >= 1 (got {register.ProcessesPerNode})");
        }

        if (_agents.TryGetValue(register.Node, out var holder) && !holder.Agent.Equals(sender) && holder.Reachable && !holder.Terminated)
        {
            var silent = now - holder.LastMessage;
            if (holder.Address.Host == address.Host && holder.Address.Port != address.Port)
            {
                // The same machine with a new actor system: the agent rejoined after its old system was downed (a
                // partition, a coordinator that was restarted). The old one is on its way out; wait for it to be gone.
                return Registration.Refuse($"node name '{register.Node}' is held by an earlier actor system of this host at {holder.Address} (the agent rejoined?); waiting until it is known to be gone", retryable: true);
            }

            if (silent < AliveWithin)
            {
                return Registration.Refuse($"node name '{register.Node}' is already taken by a live agent at {holder.Address}: give each agent its own name (sora agent --node NAME)");
            }

            return Registration.Refuse($"node name '{register.Node}' is held by an agent at {holder.Address} that has been silent for {silent.TotalSeconds:F0} s; waiting until it is known to be gone", retryable: true);
        }

        var channel = key.Session(SessionSide.Coordinator, register.Node, register.Nonce, session);
        var pending = _pending.TryGetValue(register.Node, out var list) ? list : _pending[register.Node] = [];
        pending.Add(new PendingSession(register, sender, address, channel));
        if (pending.Count > MaxPendingPerNode)
        {
            pending.RemoveAt(0);
        }

        return Registration.Accept(channel);
    }

    /// <summary>
    /// Opens a message an agent sealed: the agent's current session, or one of its pending ones (which makes it the
    /// agent of its node). Null when the message is refused.
    /// </summary>
    public Opened? Open(SealedMessage sealedMessage, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sealedMessage);
        if (_agents.TryGetValue(sealedMessage.From, out var current) && current.Channel.Session == sealedMessage.Session)
        {
            return Opened(current, current.Channel.Open(sealedMessage), now, joined: false, previous: null);
        }

        var pending = _pending.GetValueOrDefault(sealedMessage.From)?.FirstOrDefault(p => p.Channel.Session == sealedMessage.Session);
        if (pending is null)
        {
            Refused++;
            return null;
        }

        var message = pending.Channel.Open(sealedMessage);
        if (message is null)
        {
            Refused++;
            return null;
        }

        _pending.Remove(sealedMessage.From);
        var register = pending.Registration;
        var keepsOrder = current is not null && current.Agent.Equals(pending.Agent);
        var entry = new AgentEntry(register.Node, register.Host, register.ProcessesPerNode, pending.Agent, pending.Address, keepsOrder ? current!.JoinOrder : _joinOrder++, pending.Channel);
        _agents[register.Node] = entry;
        return Opened(entry, message, now, joined: true, previous: current);
    }

    /// <summary>Marks the agents at <paramref name="address"/> unreachable; returns those that were reachable (each counts as a loss).</summary>
    public IReadOnlyList<AgentEntry> MarkUnreachable(Address address, DateTimeOffset now)
    {
        var lost = _agents.Values.Where(a => a.Address.Equals(address) && a.Reachable).ToList();
        foreach (var agent in lost)
        {
            agent.Reachable = false;
            RecordLoss(agent.Node, now);
        }

        return lost;
    }

    /// <summary>Marks the agents at <paramref name="address"/> reachable again; returns those that were not.</summary>
    public IReadOnlyList<AgentEntry> MarkReachable(Address address)
    {
        var back = _agents.Values.Where(a => a.Address.Equals(address) && !a.Reachable && !a.Terminated).ToList();
        foreach (var agent in back)
        {
            agent.Reachable = true;
        }

        return back;
    }

    /// <summary>Removes the agent whose actor is <paramref name="agent"/> (it stopped); returns it, or null when it is not (or no longer) the agent of its node.</summary>
    public AgentEntry? Remove(IActorRef agent, DateTimeOffset now)
    {
        var entry = _agents.Values.FirstOrDefault(a => a.Agent.Equals(agent));
        if (entry is null)
        {
            return null;
        }

        entry.Terminated = true;
        _agents.Remove(entry.Node);
        if (entry.Reachable)
        {
            RecordLoss(entry.Node, now);
        }

        return entry;
    }

    /// <summary>The nodes that may take part in a round now: in, reachable, and not held back.</summary>
    public IReadOnlyList<CandidateNode> Candidates(DateTimeOffset now) =>
        [.. Agents.Where(a => a.Reachable && !a.Terminated && AdmittedAt(a.Node, now) <= now).Select(a => new CandidateNode(a.Node, a.ProcessesPerNode, a.JoinOrder))];

    /// <summary>When the next held-back node (one that is in and reachable) may take part, or null when none is held back.</summary>
    public DateTimeOffset? NextAdmission(DateTimeOffset now) =>
        Agents.Where(a => a.Reachable && !a.Terminated).Select(a => AdmittedAt(a.Node, now)).Where(t => t > now).Order().Cast<DateTimeOffset?>().FirstOrDefault();

    /// <summary>When <paramref name="node"/> may take part in a round (see the class summary).</summary>
    public DateTimeOffset AdmittedAt(string node, DateTimeOffset now)
    {
        if (!_losses.TryGetValue(node, out var losses))
        {
            return DateTimeOffset.MinValue;
        }

        losses.RemoveAll(t => now - t > LossWindow);
        if (losses.Count < 2)
        {
            return DateTimeOffset.MinValue;
        }

        var delay = TimeSpan.FromTicks(Math.Min(MaxRejoinDelay.Ticks, RejoinDelay.Ticks << Math.Min(losses.Count - 2, 20)));
        return losses[^1] + delay;
    }

    private void RecordLoss(string node, DateTimeOffset now) => (_losses.TryGetValue(node, out var list) ? list : _losses[node] = []).Add(now);

    private Opened? Opened(AgentEntry entry, object? message, DateTimeOffset now, bool joined, AgentEntry? previous)
    {
        if (message is null)
        {
            Refused++;
            return null;
        }

        entry.LastMessage = now;
        return new Opened(entry, message, joined, previous);
    }

    private sealed record PendingSession(RegisterAgent Registration, IActorRef Agent, Address Address, SessionChannel Channel);
}

/// <summary>One agent in the job.</summary>
public sealed class AgentEntry(string node, string host, int processesPerNode, IActorRef agent, Address address, long joinOrder, SessionChannel channel)
{
    public string Node { get; } = node;

    public string Host { get; } = host;

    public int ProcessesPerNode { get; } = processesPerNode;

    /// <summary>The agent actor.</summary>
    public IActorRef Agent { get; } = agent;

    /// <summary>Its cluster member's address (reachability events name members).</summary>
    public Address Address { get; } = address;

    /// <summary>Arrival order: older nodes come first in a round and keep their ranks.</summary>
    public long JoinOrder { get; } = joinOrder;

    /// <summary>The session its messages are sealed in, both ways.</summary>
    public SessionChannel Channel { get; } = channel;

    public bool Reachable { get; set; } = true;

    public bool Terminated { get; set; }

    /// <summary>When its last authentic message arrived.</summary>
    public DateTimeOffset LastMessage { get; set; }
}

/// <summary>What became of a registration: a pending session, a refusal (with whether the agent may retry), or nothing (a replay).</summary>
public sealed record Registration(SessionChannel? Channel, string? Refusal, bool Retryable)
{
    public static readonly Registration Replay = new(null, null, false);

    public static Registration Accept(SessionChannel channel) => new(channel, null, false);

    public static Registration Refuse(string reason, bool retryable = false) => new(null, reason, retryable);
}

/// <summary>An agent's message, opened: its agent, the message, and whether it made the agent join (replacing <paramref name="Previous"/>, the node's earlier agent or incarnation).</summary>
public sealed record Opened(AgentEntry Agent, object Message, bool Joined, AgentEntry? Previous);
