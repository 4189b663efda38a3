namespace Sora.Model.Sampling;

/// <summary>Settings of the Euler sampler.</summary>
public sealed record SamplingOptions
{
    /// <summary>Euler steps from noise (t = 1) to data (t = 0).</summary>
    public int Steps { get; init; } = 30;

    /// <summary>Classifier-free guidance scale; 1 turns guidance off.</summary>
    public double GuidanceScale { get; init; } = 4;

    public SamplingOptions Validate()
    {
        if (Steps < 1)
        {
            throw new ArgumentException($"sampling.steps: must be >= 1 (got {Steps})");
        }

        if (GuidanceScale < 0)
        {
            throw new ArgumentException($"sampling.guidance_scale: must be >= 0 (got {GuidanceScale})");
        }

        return this;
    }
}
