using Sora.Model.Sampling;

namespace Sora.Distributed.Configuration;

/// <summary>What the job generates at the end (and every sample_every steps).</summary>
public sealed record SamplingConfig
{
    public SamplingOptions Options { get; init; } = new();

    public IReadOnlyList<string> Prompts { get; init; } = [];

    /// <summary>Size of generated videos in pixels.</summary>
    public int Frames { get; init; } = 8;

    public int Height { get; init; } = 32;

    public int Width { get; init; } = 32;

    public double Fps { get; init; } = 8;

    /// <summary>Nearest-neighbour enlargement of written videos (tiny frames are hard to see).</summary>
    public int Upscale { get; init; } = 4;

    public static SamplingConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new SamplingConfig();
        return new SamplingConfig
        {
            Options = new SamplingOptions
            {
                Steps = section.Int("steps", defaults.Options.Steps, min: 1),
                GuidanceScale = section.Double("guidance_scale", defaults.Options.GuidanceScale, min: 0),
            },
            Prompts = section.Strings("prompts", defaults.Prompts),
            Frames = section.Int("frames", defaults.Frames, min: 1),
            Height = section.Int("height", defaults.Height, min: 4),
            Width = section.Int("width", defaults.Width, min: 4),
            Fps = section.Double("fps", defaults.Fps, min: 0.1),
            Upscale = section.Int("upscale", defaults.Upscale, min: 1, max: 16),
        };
    }
}
