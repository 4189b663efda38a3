namespace Sora.Distributed.Training;

/// <summary>A snapshot for the live progress display.</summary>
/// <param name="Name">The run ("vae", "dit").</param>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Steps the run will make.</param>
/// <param name="Loss">Mean training loss over the recent window.</param>
/// <param name="LearningRate">Rate of the last step.</param>
/// <param name="GradientNorm">Global gradient norm of the last step, before clipping.</param>
/// <param name="SamplesPerSecond">Throughput over the recent window.</param>
/// <param name="Elapsed">Wall time since the run started.</param>
/// <param name="Remaining">Estimated time to the last step.</param>
/// <param name="HeldOutLoss">The latest held-out loss, if any.</param>
public sealed record TrainingProgress(
    string Name,
    long Step,
    long TotalSteps,
    double Loss,
    double LearningRate,
    double GradientNorm,
    double SamplesPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining,
    double? HeldOutLoss);
