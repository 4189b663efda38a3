namespace Sora.Distributed.Training;

/// <summary>Linear warmup from 0 to the peak rate, then cosine decay to the minimum rate at the last step.</summary>
public sealed record LearningRateSchedule(double PeakRate, long WarmupSteps, long TotalSteps, double MinimumRate = 0)
{
    /// <summary>The rate for optimizer step <paramref name="step"/> (1-based).</summary>
    public double At(long step)
    {
        if (step <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        }

        if (WarmupSteps > 0 && step <= WarmupSteps)
        {
            return PeakRate * step / WarmupSteps;
        }

        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return MinimumRate + ((PeakRate - MinimumRate) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    public LearningRateSchedule Validate(string prefix = "train")
    {
        if (PeakRate <= 0)
        {
            throw new ArgumentException($"{prefix}.lr: must be > 0 (got {PeakRate})");
        }

        if (WarmupSteps < 0 || WarmupSteps > TotalSteps)
        {
            throw new ArgumentException($"{prefix}.warmup_steps: must be in [0, steps = {TotalSteps}] (got {WarmupSteps})");
        }

        if (MinimumRate < 0 || MinimumRate > PeakRate)
        {
            throw new ArgumentException($"{prefix}.min_lr: must be in [0, lr = {PeakRate}] (got {MinimumRate})");
        }

        return this;
    }
}
