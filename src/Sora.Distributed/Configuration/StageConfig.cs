using Sora.Distributed.Training;
using Sora.Torch;

namespace Sora.Distributed.Configuration;

/// <summary>How one model is trained: steps, batch, optimizer, schedule and the trainer's intervals.</summary>
public sealed record StageConfig
{
    public long Steps { get; init; } = 1000;

    /// <summary>Samples per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;

    public int GradientAccumulation { get; init; } = 1;

    public double LearningRate { get; init; } = 1e-4;

    public double MinLearningRate { get; init; }

    public long WarmupSteps { get; init; }

    public double WeightDecay { get; init; }

    public double GradientClip { get; init; } = 1.0;

    public double? EmaDecay { get; init; }

    public long EvalEvery { get; init; }

    public long SampleEvery { get; init; }

    /// <summary>The dtype the model computes in under FSDP (bf16), or null for the parameters' own (fp32).</summary>
    public ScalarType? MixedPrecision { get; init; }

    public TrainerOptions Trainer => new()
    {
        Steps = Steps,
        GradientAccumulation = GradientAccumulation,
        GradientClip = GradientClip,
        EmaDecay = EmaDecay,
        EvalEvery = EvalEvery,
        SampleEvery = SampleEvery,
        ComputeDType = MixedPrecision,
    };

    public LearningRateSchedule Schedule => new(LearningRate, WarmupSteps, Steps, MinLearningRate);

    /// <summary>
    /// Reads a stage section; absent keys keep <paramref name="defaults"/>. <paramref name="mixedPrecision"/>: whether
    /// the stage's model computes in its parameters' dtype (the DiT does), so mixed_precision may be set.
    /// </summary>
    public static StageConfig Read(YamlSection section, StageConfig defaults, bool mixedPrecision = false)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(defaults);
        var steps = section.Long("steps", defaults.Steps, min: 1);
        var lr = section.Double("lr", defaults.LearningRate, min: double.Epsilon);
        var config = new StageConfig
        {
            Steps = steps,
            BatchSize = section.Int("batch_size", defaults.BatchSize, min: 1),
            GradientAccumulation = section.Int("gradient_accumulation", defaults.GradientAccumulation, min: 1),
            LearningRate = lr,
            MinLearningRate = section.Double("min_lr", defaults.MinLearningRate, min: 0, max: lr),
            WarmupSteps = section.Long("warmup_steps", Math.Min(defaults.WarmupSteps, steps), min: 0, max: steps),
            WeightDecay = section.Double("weight_decay", defaults.WeightDecay, min: 0),
            GradientClip = section.Double("grad_clip", defaults.GradientClip, min: 0),
            EmaDecay = section.Has("ema_decay") ? section.OptionalDouble("ema_decay", min: 0, max: 0.999999) : defaults.EmaDecay,
            EvalEvery = section.Long("eval_every", defaults.EvalEvery, min: 0),
            SampleEvery = section.Long("sample_every", defaults.SampleEvery, min: 0),
            MixedPrecision = mixedPrecision && section.Choice("mixed_precision", "none", "none", "bf16") == "bf16" ? ScalarType.BFloat16 : defaults.MixedPrecision,
        };
        return config;
    }
}
