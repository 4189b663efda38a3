namespace Sora.Distributed.Training;

/// <summary>How long and how the trainer steps: one record of the job config's train section.</summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer steps.</summary>
    public long Steps { get; init; } = 1000;

    /// <summary>Micro-batches whose gradients add up to one optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Global gradient-norm limit; 0 turns clipping off.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Decay of the weights' exponential moving average; null for no EMA.</summary>
    public double? EmaDecay { get; init; }

    /// <summary>Held-out loss interval in steps (0 = only at the end).</summary>
    public long EvalEvery { get; init; }

    /// <summary>Sampling interval in steps (0 = only at the end).</summary>
    public long SampleEvery { get; init; }

    /// <summary>
    /// The dtype the model computes in (bf16), or null for its parameters' own. Needs FSDP: its shards stay in the
    /// parameters' dtype for the optimizer (master weights) while units are gathered in this one.
    /// </summary>
    public Sora.Torch.ScalarType? ComputeDType { get; init; }

    /// <summary>How many recent steps the displayed loss averages.</summary>
    public int LossWindow { get; init; } = 20;

    public TrainerOptions Validate(string prefix = "train")
    {
        Require(Steps >= 1, $"{prefix}.steps", $"must be >= 1 (got {Steps})");
        Require(GradientAccumulation >= 1, $"{prefix}.gradient_accumulation", $"must be >= 1 (got {GradientAccumulation})");
        Require(GradientClip >= 0, $"{prefix}.grad_clip", $"must be >= 0 (got {GradientClip})");
        Require(EmaDecay is null or (>= 0 and < 1), $"{prefix}.ema_decay", $"must be in [0, 1) (got {EmaDecay})");
        Require(EvalEvery >= 0, $"{prefix}.eval_every", $"must be >= 0 (got {EvalEvery})");
        Require(SampleEvery >= 0, $"{prefix}.sample_every", $"must be >= 0 (got {SampleEvery})");
        Require(LossWindow >= 1, $"{prefix}.loss_window", $"must be >= 1 (got {LossWindow})");
        return this;
    }

    private static void Require(bool condition, string key, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{key}: {message}");
        }
    }
}
