namespace Sora.Metrics.Pipeline;

/// <summary>
/// What one worker (rank) measured, as it reports it to its agent and the agent to the coordinator (about once a
/// second). Counters are cumulative since the worker process started (the coordinator turns them into job counters
/// that survive restarts); the rest is the latest value. The last steps' durations and losses travel exactly
/// (<see cref="RecentSteps"/>), so the coordinator's step-time histogram and loss history miss no step between
/// reports. Plain settable properties with zero defaults: the control plane's JSON serializer leaves default values
/// out and reads them back as the same defaults.
/// </summary>
public sealed record RankMetrics
{
    /// <summary>The most recent steps carried in <see cref="RecentSteps"/>.</summary>
    public const int RecentCapacity = 64;

    /// <summary>The training stage ("vae", "dit").</summary>
    public string Stage { get; init; } = "";

    /// <summary>The stage's last step done.</summary>
    public long Step { get; init; }

    /// <summary>The stage's steps.</summary>
    public long TotalSteps { get; init; }

    /// <summary>Optimizer steps since the process started.</summary>
    public long StepsTotal { get; init; }

    /// <summary>Samples of the global batch trained since the process started (every rank counts the whole batch).</summary>
    public long SamplesTotal { get; init; }

    /// <summary>Tokens of the global batch trained since the process started.</summary>
    public long TokensTotal { get; init; }

    /// <summary>Steps whose loss or gradient norm was not finite (the job stops on the first one).</summary>
    public long NonFiniteStepsTotal { get; init; }

    /// <summary>Model FLOPs this rank computed (forward and backward) since the process started.</summary>
    public double FlopsTotal { get; init; }

    /// <summary>The last step's training loss (the global batch's mean).</summary>
    public double Loss { get; init; }

    /// <summary>The latest held-out loss, if any was measured (rank 0 only).</summary>
    public double? HeldOutLoss { get; init; }

    /// <summary>The step <see cref="HeldOutLoss"/> was measured at.</summary>
    public long HeldOutStep { get; init; }

    /// <summary>The last step's gradient norm before clipping.</summary>
    public double GradientNorm { get; init; }

    /// <summary>The last step's learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>The last step's wall time.</summary>
    public double StepSeconds { get; init; }

    /// <summary>The last step's time waiting for data (the loader's queue).</summary>
    public double DataSeconds { get; init; }

    /// <summary>The last step's forward and backward time (communication hidden behind backward included).</summary>
    public double ComputeSeconds { get; init; }

    /// <summary>The last step's clipping, optimizer and EMA time.</summary>
    public double OptimizerSeconds { get; init; }

    /// <summary>The last step's communication not hidden behind backward.</summary>
    public double CommunicationSeconds { get; init; }

    /// <summary>The mean over the last ten steps of the step's time less its exposed communication: what a straggler has more of than its peers.</summary>
    public double BusySeconds { get; init; }

    /// <summary>Seconds spent waiting for data since the process started.</summary>
    public double DataWaitSecondsTotal { get; init; }

    /// <summary>Batches ready in the loader's queue at the last step.</summary>
    public double LoaderQueueDepth { get; init; }

    /// <summary>The share of the last packed batch's token budget that was padding (0 when not packing).</summary>
    public double PaddingWasteRatio { get; init; }

    /// <summary>This rank's model FLOP/s over the recent steps.</summary>
    public double FlopsPerSecond { get; init; }

    /// <summary>The peak FLOP/s MFU is measured against (0: unknown, no MFU).</summary>
    public double PeakFlopsPerSecond { get; init; }

    /// <summary>Checkpoint saves since the process started.</summary>
    public long CheckpointSavesTotal { get; init; }

    /// <summary>The last save's step.</summary>
    public long CheckpointSaveStep { get; init; }

    /// <summary>The stage of the last save ("vae" or "dit"; "" when the trainer did not say).</summary>
    public string CheckpointSaveStage { get; init; } = "";

    /// <summary>The last save's time, from the snapshot to this rank's shard written.</summary>
    public double CheckpointSaveSeconds { get; init; }

    /// <summary>The last save's bytes from this rank.</summary>
    public long CheckpointSaveBytes { get; init; }

    /// <summary>The resume's load time (0: nothing loaded).</summary>
    public double CheckpointLoadSeconds { get; init; }

    /// <summary>The resume's bytes read by this rank.</summary>
    public long CheckpointLoadBytes { get; init; }

    /// <summary>The last checkpoint this rank committed (rank 0 commits; 0: none).</summary>
    public long CommittedStep { get; init; }

    /// <summary>The stage of <see cref="CommittedStep"/>.</summary>
    public string CommittedStage { get; init; } = "";

    /// <summary>When it was committed, in Unix seconds.</summary>
    public double CommittedAtUnixSeconds { get; init; }

    /// <summary>Device memory in use (0 on CPU).</summary>
    public long DeviceBytes { get; init; }

    /// <summary>The step numbers of the latest steps (at most <see cref="RecentCapacity"/>, oldest first).</summary>
    public long[] RecentSteps { get; init; } = [];

    /// <summary>Their wall times.</summary>
    public double[] RecentStepSeconds { get; init; } = [];

    /// <summary>Their training losses.</summary>
    public double[] RecentLosses { get; init; } = [];
}
