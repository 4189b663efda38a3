using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The job as the API and <c>sora status</c> read it (<see cref="JobStatus"/>) and the ranks' metrics, projected from the
/// coordinator's state without an actor.
/// </summary>
public static class JobStatusProjection
{
    /// <summary>The job's status at <paramref name="now"/>.</summary>
    /// <param name="view">The coordinator's state.</param>
    /// <param name="now">The coordinator's clock.</param>
    public static JobStatus Status(CoordinatorView view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        var round = view.Round;
        var ranks = round is null ? [] : round.Plan.Ranks.Select((r, rank) =>
        {
            var report = round.Reports[rank];
            var exited = round.Exits.GetValueOrDefault(rank);
            var heartbeat = view.Agents.Find(r.Node) is { } a ? (now - a.LastMessage).TotalSeconds : double.NaN;
            var state = exited is not null ? (exited.ExitCode == 0 ? "finished" : $"exited ({exited.How})") : report?.State ?? "starting";
            return new RankStatus(rank, r.Node, r.LocalRank, state, report?.Stage ?? "", report?.Step ?? 0, report?.TotalSteps ?? 0, heartbeat, report?.SecondsSinceOutput ?? 0,
                report?.Loss, report?.StepSeconds, report?.ResidentBytes ?? 0);
        }).ToList();
        var nodes = view.Agents.Agents.Select(a => new NodeStatus(a.Node, a.Host, a.ProcessesPerNode, a.Reachable, round?.Includes(a.Node) ?? false, (now - a.LastMessage).TotalSeconds)).ToList();
        return new JobStatus(view.Job, view.State, round?.Number ?? view.LastRound, round?.Plan.WorldSize ?? 0, view.Message, view.StartedAt, nodes, ranks,
            [.. view.Budget.History], view.Budget.Left, view.LastCheckpoint, view.Store);
    }

    /// <summary>The metrics each rank of <paramref name="round"/> last reported.</summary>
    public static IReadOnlyList<RankReport> Reports(Round? round) => round is null ? [] :
        [.. round.Reports.Where(r => r?.Metrics is not null).Select(r => new RankReport(r!.Rank, r.Pid, r.Metrics!))];
}

/// <summary>What the coordinator's status is made of.</summary>
/// <param name="Job">The job's name.</param>
/// <param name="State">One of <see cref="JobStates"/>.</param>
/// <param name="Message">What it is doing, in words.</param>
/// <param name="StartedAt">When the coordinator started.</param>
/// <param name="Agents">Who is in.</param>
/// <param name="Round">The round being formed, run or ended (or the last one, once the job ended); null between rounds.</param>
/// <param name="LastRound">The last round's number.</param>
/// <param name="Budget">The restart budget.</param>
/// <param name="LastCheckpoint">The last committed checkpoint the coordinator knows of.</param>
/// <param name="Store">Where the checkpoints are.</param>
public sealed record CoordinatorView(string Job, string State, string Message, DateTimeOffset StartedAt, AgentRegistry Agents, Round? Round, long LastRound, RestartBudget Budget,
    CommittedCheckpoint? LastCheckpoint, string Store);
