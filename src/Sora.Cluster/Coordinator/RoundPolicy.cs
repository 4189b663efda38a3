using Sora.Checkpoint.Sharded;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The coordinator's decisions about rounds, without an actor: when a join may end a running round, how a worker's
/// exit ends one, whether a fence error is retried, and what follows a round's end (a restart, the job's end).
/// </summary>
public static class RoundPolicy
{
    /// <summary>Fence attempts before the job fails with the store's error.</summary>
    public const int FenceAttempts = 6;

    /// <summary>The wait before the second fence attempt; it doubles with each further one (1, 2, 4, 8, 16 s: about half a minute in all).</summary>
    public static readonly TimeSpan FenceRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Why the running <paramref name="round"/> must go on although a round of <paramref name="nextWorldSize"/> ranks
    /// could form, or null when it should end now (gracefully) so the larger group forms. A join ends a round only when:
    /// the new round would be larger (a round of the same size would redo the steps since the checkpoint for nothing);
    /// every rank reports the same stage and that stage has checkpoints (<paramref name="checkpointedStages"/>; a graceful
    /// stop checkpoints it, so nothing is lost); and a checkpoint was committed since the round started
    /// (<paramref name="latest"/>: the store's pointer names this round and a step past the one it resumed from), so every
    /// round trains at least one checkpoint interval however often nodes come and go.
    /// </summary>
    public static string? ScaleUpBlocker(Round round, int nextWorldSize, IReadOnlySet<string> checkpointedStages, CommittedCheckpoint? latest)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(checkpointedStages);
        if (nextWorldSize <= round.Plan.WorldSize)
        {
            return $"the next round would have {nextWorldSize} ranks, not more than this one's {round.Plan.WorldSize}";
        }

        if (round.Stage is not { } stage)
        {
            return "waiting until every rank reports the same stage";
        }

        if (!checkpointedStages.Contains(stage))
        {
            return $"the {stage} stage has no checkpoints: stopping now would lose its progress";
        }

        if (latest is null || latest.Round != round.Number || !IsPast(latest, round.ResumedStage, round.ResumedFrom))
        {
            return $"waiting for the round's first {stage} checkpoint";
        }

        return null;
    }

    /// <summary>Whether <paramref name="latest"/> is further in training than step <paramref name="step"/> of <paramref name="stage"/> ("": nothing yet).</summary>
    private static bool IsPast(CommittedCheckpoint latest, string stage, long step)
    {
        var (latestOrder, startOrder) = (StageOrder(latest.Stage), stage.Length == 0 ? -1 : StageOrder(stage));
        return latest.Step > 0 && (latestOrder > startOrder || (latestOrder == startOrder && latest.Step > step));
    }

    /// <summary>Training order: the VAE stage, then the DiT stage.</summary>
    private static int StageOrder(string stage) => stage == "vae" ? 0 : 1;

    /// <summary>How <paramref name="exited"/> ends its round, or null when it does not (a rank that finished).</summary>
    public static RoundEnd? OnWorkerExit(WorkerExited exited, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(exited);
        if (exited.ExitCode == 0)
        {
            return null;
        }

        var tail = string.IsNullOrWhiteSpace(exited.LogTail) ? "" : $"\n--- last lines of rank {exited.Rank} ({exited.LogFile}) ---\n{exited.LogTail.TrimEnd()}";
        if (exited.ExitCode == WorkerLifetime.ConfigurationErrorExitCode)
        {
            var error = exited.Error ?? LastLine(exited.LogTail) ?? "(no message)";
            return new RoundEnd($"rank {exited.Rank} on node '{exited.Node}' stopped with a configuration or data error ({exited.How}), which would fail the same way on every restart: {error}{tail}",
                RoundEndKind.Fatal, Graceful: false, now);
        }

        return new RoundEnd($"rank {exited.Rank} on node '{exited.Node}' failed: {exited.How}{tail}", RoundEndKind.WorkerFailed, Graceful: false, now);
    }

    /// <summary>The wait before fence attempt <paramref name="attempt"/> + 1 after <paramref name="error"/>, or null when the job must fail now.</summary>
    /// <remarks>
    /// Another coordinator's round (<see cref="StaleRoundException"/>) and an unreadable pointer
    /// (<see cref="CheckpointFormatException"/>) are never retried: neither heals. Anything else (an I/O error, a
    /// timeout, a storage service's 5xx) is retried with back-off while attempts last.
    /// </remarks>
    public static TimeSpan? FenceRetry(int attempt, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is StaleRoundException or CheckpointFormatException || attempt >= FenceAttempts)
        {
            return null;
        }

        return FenceRetryDelay * (1 << Math.Min(attempt - 1, 10));
    }

    /// <summary>What follows the end of <paramref name="round"/>: the job's end, or a new rendezvous (spending <paramref name="budget"/> when it failed).</summary>
    public static AfterRound After(Round round, string job, RestartBudget budget, string store, CommittedCheckpoint? lastCheckpoint)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(budget);
        var end = round.End ?? throw new InvalidOperationException($"round {round.Number} has not ended");
        switch (end.Kind)
        {
            case RoundEndKind.Stop:
                return AfterRound.Finish(true, JobStates.Stopped,
                    $"job '{job}' stopped on request in round {round.Number}, {StopOutcome(round, store, lastCheckpoint)}. Launch the same job again to continue.");
            case RoundEndKind.Fatal:
                return AfterRound.Finish(false, JobStates.Failed, $"job '{job}' failed in round {round.Number} (not retried): {end.Cause}");
            case RoundEndKind.ScaleUp:
                return AfterRound.Continue(null);
        }

        if (!budget.TrySpend(new RestartRecord(round.Number, end.DetectedAt, end.Cause, end.KindName)))
        {
            return AfterRound.Finish(false, JobStates.Failed, $"job '{job}' failed: the restart budget ({budget.Max}) is spent. Last failure (round {round.Number}): {end.Cause}");
        }

        return AfterRound.Continue($"restart {budget.Used} of {budget.Max}: a new round starts from the last committed checkpoint");
    }

    /// <summary>What rank 0 said of its stop: the stage and step, and whether its checkpoint was committed.</summary>
    private static string StopOutcome(Round round, string store, CommittedCheckpoint? lastCheckpoint) => round.Exits.GetValueOrDefault(0)?.Stopped switch
    {
        { Committed: true } s => $"after {s.Stage} step {s.Step}, whose checkpoint is committed in {store}",
        { Stage.Length: > 0 } s => $"after {s.Stage} step {s.Step}, but its checkpoint was not committed (see rank 0's log); the last committed one is {Describe(lastCheckpoint)}",
        _ => $"without a stop report from rank 0; the last committed checkpoint is {Describe(lastCheckpoint)}",
    };

    private static string Describe(CommittedCheckpoint? checkpoint) => checkpoint is { } c ? $"{c.Stage} step {c.Step}" : "none";

    private static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
}

/// <summary>What follows a round: the job ends (<see cref="Ends"/>), or a new rendezvous starts, with a line to report.</summary>
public sealed record AfterRound(bool Ends, bool Success, string State, string? Message)
{
    public static AfterRound Finish(bool success, string state, string message) => new(true, success, state, message);

    public static AfterRound Continue(string? note) => new(false, false, "", note);
}
