using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

// What every state shares: registrations, the agents' sealed messages and membership news (handed to the state as
// messages and NodeJoined/NodeLost/NodeBack events), commands, and what a running round does with reports.
public sealed partial class JobCoordinator
{
    /// <summary>
    /// Registrations, agents' sealed messages and membership news; <paramref name="onAgent"/> is the state's answer to each
    /// opened message and to <see cref="NodeJoined"/>, <see cref="NodeLost"/> and <see cref="NodeBack"/>.
    /// </summary>
    private void AnswerAgents(Action<AgentEntry, object> onAgent)
    {
        Receive<RegisterAgent>(OnRegister);
        Receive<SealedMessage>(m => m.From != JobKey.CommandSender, m => OnAgentMessage(m, onAgent));
        Receive<ClusterEvent.UnreachableMember>(e => Lost(_agents.MarkUnreachable(e.Member.Address, Now), "is unreachable (the failure detector lost its heartbeats)", onAgent));
        Receive<ClusterEvent.MemberRemoved>(e => Lost(_agents.MarkUnreachable(e.Member.Address, Now), "was removed from the cluster", onAgent));
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            foreach (var agent in _agents.MarkReachable(e.Member.Address))
            {
                _events.Report($"node '{agent.Node}' is reachable again");
                onAgent(agent, new NodeBack(agent.Node));
            }
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<Terminated>(t =>
        {
            if (_agents.Remove(t.ActorRef, Now) is { } agent)
            {
                Lost([agent], "stopped (its agent actor terminated)", onAgent);
            }
        });
    }

    /// <summary>Local commands (sealed with the job key's command key): the status, and a stop answered by <paramref name="onStop"/>.</summary>
    private void AnswerCommands(Action<StopJob> onStop) =>
        Receive<SealedMessage>(m => m.From == JobKey.CommandSender, m => OnCommand(m, onStop));

    private void OnCommand(SealedMessage sealedMessage, Action<StopJob> onStop)
    {
        switch (_commands.Open(sealedMessage))
        {
            case GetStatus:
                Sender.Tell(Status());
                break;
            case StopJob stop:
                onStop(stop);
                break;
            default:
                NoteRefused(sealedMessage);
                break;
        }
    }

    private void OnRegister(RegisterAgent register)
    {
        var registration = _agents.Register(register, Sender, AddressOf(Sender), JobKey.NewNonce(), Now);
        if (registration.Channel is { } channel)
        {
            var accepted = new AgentAccepted(register.Node, _spec.Name, register.Nonce, channel.Session, _spec.Fault.CoordinatorTimeoutOrDefault.TotalSeconds, "");
            Sender.Tell(accepted with { Proof = channel.Sign(accepted.ProvenFields()) });
        }
        else if (registration.Refusal is { } reason)
        {
            if (registration.Retryable)
            {
                _log.Info("agent {0} refused for now: {1}", register.Node, reason);
            }
            else
            {
                _events.Report($"agent '{register.Node}' ({AddressOf(Sender)}) refused: {reason}");
            }

            Sender.Tell(new AgentRejected(register.Node, reason, registration.Retryable));
        }
    }

    private void OnAgentMessage(SealedMessage sealedMessage, Action<AgentEntry, object> onAgent)
    {
        if (_agents.Open(sealedMessage, Now) is not { } opened)
        {
            NoteRefused(sealedMessage);
            return;
        }

        var agent = opened.Agent;
        if (opened.Joined)
        {
            if (opened.Previous is { } previous && !previous.Agent.Equals(agent.Agent))
            {
                Context.Unwatch(previous.Agent);
            }

            Context.Watch(agent.Agent);
            _events.Report($"agent '{agent.Node}' joined ({agent.Host}, {agent.ProcessesPerNode} worker{(agent.ProcessesPerNode == 1 ? "" : "s")}); {_agents.Agents.Count()} node(s) in the job");
            if (opened.Previous is not null && _round?.Includes(agent.Node) == true)
            {
                // An agent registers again only when it lost its state (its actor or process restarted): its workers are gone.
                onAgent(agent, new NodeLost(agent.Node, $"node '{agent.Node}' ({agent.Host}) registered again, so its agent restarted and its workers are gone"));
            }

            onAgent(agent, new NodeJoined(agent.Node));
        }

        onAgent(agent, opened.Message);
    }

    private void Lost(IReadOnlyList<AgentEntry> agents, string how, Action<AgentEntry, object> onAgent)
    {
        foreach (var agent in agents)
        {
            var cause = $"node '{agent.Node}' ({agent.Host}) {how}";
            _events.Report(cause);
            onAgent(agent, new NodeLost(agent.Node, cause));
        }
    }

    /// <summary>Messages that do not open are dropped; the count is reported now and then, never their content.</summary>
    private void NoteRefused(SealedMessage sealedMessage)
    {
        var refused = _agents.Refused + _commands.Refused;
        if (refused > _refusedReported && (_refusedReported == 0 || refused >= _refusedReported * 2))
        {
            _events.Report($"dropped a message that did not authenticate ({sealedMessage.Type} claiming to come from '{sealedMessage.From}'; {refused} dropped so far): forged, replayed, or from a session that ended");
            _refusedReported = refused;
        }
    }

    /// <summary>Whether <paramref name="rank"/> of <paramref name="round"/> runs on <paramref name="agent"/>'s node (an agent reports only its own ranks).</summary>
    private static bool Owns(Round round, AgentEntry agent, int rank) =>
        rank >= 0 && rank < round.Plan.WorldSize && round.Plan.Ranks[rank].Node == agent.Node;

    /// <summary>As <see cref="AnswerAgents"/> while <paramref name="round"/> runs or ends: its ranks' progress and sample videos are taken here, the rest goes to <paramref name="onAgent"/>.</summary>
    private void AnswerRoundAgents(Round round, Action<AgentEntry, object> onAgent) => AnswerAgents((agent, message) =>
    {
        switch (message)
        {
            case AgentHeartbeat heartbeat:
                OnHeartbeat(round, agent, heartbeat);
                break;
            case SampleVideoWritten sample:
                OnSample(round, sample);
                break;
            default:
                onAgent(agent, message);
                break;
        }
    });

    private void OnHeartbeat(Round round, AgentEntry agent, AgentHeartbeat heartbeat)
    {
        if (heartbeat.Round != round.Number || round.StartedAt is null)
        {
            return;
        }

        foreach (var report in heartbeat.Workers.Where(r => Owns(round, agent, r.Rank)))
        {
            if (round.Record(report))
            {
                NoteFirstStep(round, report);
                _watchdog.Observe(report.Rank, report.SecondsSinceOutput, report.StepSeconds, Now);
            }
        }
    }

    private void OnWorkerExited(Round round, WorkerExited exited)
    {
        if (!round.Record(exited))
        {
            return;
        }

        _watchdog.Forget(exited.Rank);
        if (RoundPolicy.OnWorkerExit(exited, Now) is { } end)
        {
            EndRound(round, end);
        }
        else if (round.AllExited)
        {
            Finish(true, $"job '{_spec.Name}' completed: {round.Plan.WorldSize} ranks on {round.Plan.Nodes.Count} node(s), round {round.Number}, {_budget.Used} restart(s)");
        }
    }

    private void OnSample(Round round, SampleVideoWritten sample)
    {
        if (sample.Round == round.Number)
        {
            _metrics.AddSample(sample.Video, Now);
        }
    }

    /// <summary>A rank is hung: the round ends. A rank whose process is stopped (SIGSTOP) is blamed first: the others wait on it in a collective.</summary>
    private void OnHangCheck(Round round)
    {
        var now = Now;
        var hung = _watchdog.Hung(now);
        if (hung.Count == 0)
        {
            ScheduleHangCheck();
            return;
        }

        var stopped = Enumerable.Range(0, round.Plan.WorldSize).Where(r => !round.Exits.ContainsKey(r) && round.Reports[r]?.State == "stopped").ToList();
        var rank = stopped.Count > 0 ? stopped[0] : hung[0].Rank;
        var silent = hung.FirstOrDefault(h => h.Rank == rank).Silent;
        var state = round.Reports[rank]?.State == "stopped" ? " (its process is stopped: SIGSTOP)" : "";
        var node = round.Plan.Ranks[rank].Node;
        var cause = $"rank {rank} on node '{node}' is hung: no progress for {Math.Max(silent.TotalSeconds, hung[0].Silent.TotalSeconds):F0} s (hang timeout {_watchdog.Timeout.TotalSeconds:F0} s){state}";
        EndRound(round, new RoundEnd(cause, RoundEndKind.Hang, Graceful: false, now));
    }

    /// <summary>
    /// Whether a node that joined (or was let in again) should end the running round so a larger one forms: while a larger
    /// group is possible, the scale-up timer reads the store's pointer every few seconds and <see cref="RoundPolicy.ScaleUpBlocker"/> decides.
    /// </summary>
    private void ConsiderScaleUp(Round round)
    {
        var now = Now;
        ScheduleAdmission(now);
        var fault = _spec.Fault;
        var plan = RendezvousPolicy.Plan(_agents.Candidates(now), fault.MinNodes, fault.MaxNodes, _spec.Batches, out _);
        if (plan is null || plan.WorldSize <= round.Plan.WorldSize)
        {
            Timers.Cancel(ScaleUpTimer);
            return;
        }

        if (!Timers.IsTimerActive(ScaleUpTimer))
        {
            Timers.StartPeriodicTimer(ScaleUpTimer, new Deadline(ScaleUpTimer), ScaleUpInterval);
        }

        if (_ledgerReadInFlight)
        {
            return;
        }

        _ledgerReadInFlight = true;
        var number = round.Number;
        _ledger.ReadAsync().PipeTo(Self, success: latest => new LedgerRead(number, latest), failure: _ => new LedgerRead(number, null));
    }

    private void OnLedgerRead(Round round, LedgerRead read)
    {
        _ledgerReadInFlight = false;
        if (read.Latest is { Step: > 0 } latest && latest.Step > (_lastCheckpoint?.Step ?? 0))
        {
            _lastCheckpoint = latest;
        }

        var fault = _spec.Fault;
        var plan = RendezvousPolicy.Plan(_agents.Candidates(Now), fault.MinNodes, fault.MaxNodes, _spec.Batches, out _);
        if (plan is null)
        {
            return;
        }

        var blocker = RoundPolicy.ScaleUpBlocker(round, plan.WorldSize, _spec.CheckpointedStages, read.Latest);
        if (blocker is null)
        {
            var joined = plan.Nodes.Select(n => n.Node).Except(round.Plan.Nodes.Select(n => n.Node));
            EndRound(round, new RoundEnd($"node(s) {string.Join(", ", joined)} joined: re-forming the group at a checkpoint boundary ({round.Plan.WorldSize} → {plan.WorldSize} ranks)",
                RoundEndKind.ScaleUp, Graceful: true, Now));
            return;
        }

        _message = $"round {round.Number} running; a round of {plan.WorldSize} ranks waits: {blocker}";
    }

    /// <summary>Reports when a round first trains: a step past the one it resumed from (how long a recovery took, to the user and to <c>sora bench recovery</c>).</summary>
    private void NoteFirstStep(Round round, WorkerReport report)
    {
        var resumed = round.ResumedFrom;

        // A round resumed in one stage has trained once that stage passes the step it resumed from, or a later stage starts.
        var trained = report.Stage == round.ResumedStage ? report.Step > resumed : report.Stage.Length > 0 && report.Step >= 1;
        if (round.FirstStepReported || round.StartedAt is not { } started || !trained)
        {
            return;
        }

        round.FirstStepReported = true;
        var at = Now - TimeSpan.FromSeconds(Math.Max(0, report.SecondsSinceOutput));
        _events.Report($"round {round.Number}: training: {report.Stage} step {report.Step} at {at.ToLocalTime():HH:mm:ss.fff}, {(at - started).TotalSeconds:F1} s after the round started (resumed from step {resumed})");
    }

    private void ReportProgress(Round round)
    {
        var reports = round.Reports.Where(r => r is not null).Select(r => r!).ToList();
        if (reports.Count == 0)
        {
            return;
        }

        var slowest = reports.OrderBy(r => r.Stage == "dit" ? 1 : 0).ThenBy(r => r.Step).First();
        var loss = reports.FirstOrDefault(r => r.Rank == 0)?.Loss;
        _events.Report($"round {round.Number}: {slowest.Stage} step {slowest.Step}/{slowest.TotalSteps}" + (loss is { } l ? $", loss {l:F4}" : "")
            + (slowest.StepSeconds is { } s ? $", {s:F2} s/step" : "") + $" ({reports.Count} of {round.Plan.WorldSize} ranks reporting)");
    }

    private static Address AddressOf(IActorRef actor)
    {
        var address = actor.Path.Address;
        return address.HasLocalScope && IsClustered ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : address;
    }

    /// <summary>A node's agent joined (or joined again).</summary>
    private sealed record NodeJoined(string Node);

    /// <summary>A node's agent was lost (unreachable, removed, stopped, or restarted): its workers count as gone.</summary>
    private sealed record NodeLost(string Node, string Cause);

    /// <summary>A node that was unreachable is reachable again.</summary>
    private sealed record NodeBack(string Node);
}
