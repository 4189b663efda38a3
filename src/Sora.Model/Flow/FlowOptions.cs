namespace Sora.Model.Flow;

/// <summary>Settings of the rectified-flow objective.</summary>
public sealed record FlowOptions
{
    /// <summary>Mean of the normal whose sigmoid is t (logit-normal sampling).</summary>
    public double LogitMean { get; init; }

    /// <summary>Standard deviation of that normal.</summary>
    public double LogitStd { get; init; } = 1;

    /// <summary>Shift t towards noise for larger inputs (more tokens need more noise to hide their content).</summary>
    public bool ResolutionShift { get; init; } = true;

    /// <summary>Token count at which the shift is 1; the shift is √(tokens / this).</summary>
    public long ShiftBaseTokens { get; init; } = 256;

    /// <summary>Upper bound of the shift.</summary>
    public double MaxShift { get; init; } = 3;

    /// <summary>Probability that a caption is replaced by the empty caption (classifier-free guidance).</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>Probability that a video sample keeps some latent frames clean as conditioning.</summary>
    public double FrameMaskProbability { get; init; } = 0.25;

    /// <summary>
    /// Share of the noise's variance common to all frames of a video (a mixed noise prior, after PYoCo): each frame's
    /// ε is √ρ·ε_shared + √(1 − ρ)·ε_own, still N(0, 1) per element. 0 is independent noise. Frames that start from
    /// correlated noise keep one object one object; the prior must be the same in training and sampling.
    /// </summary>
    public double FrameNoiseCorrelation { get; init; }

    public FlowOptions Validate()
    {
        Require(LogitStd > 0, "logit_std", $"must be > 0 (got {LogitStd})");
        Require(ShiftBaseTokens >= 1, "shift_base_tokens", $"must be >= 1 (got {ShiftBaseTokens})");
        Require(MaxShift >= 1, "max_shift", $"must be >= 1 (got {MaxShift})");
        Require(CaptionDropout is >= 0 and <= 1, "caption_dropout", $"must be in [0, 1] (got {CaptionDropout})");
        Require(FrameMaskProbability is >= 0 and <= 1, "frame_mask_probability", $"must be in [0, 1] (got {FrameMaskProbability})");
        Require(FrameNoiseCorrelation is >= 0 and < 1, "frame_noise_correlation", $"must be in [0, 1) (got {FrameNoiseCorrelation})");
        return this;
    }

    private static void Require(bool condition, string field, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"flow.{field}: {message}");
        }
    }
}
