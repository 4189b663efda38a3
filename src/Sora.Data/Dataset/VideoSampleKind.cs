namespace Sora.Data.Dataset;

/// <summary>What a sample's payload holds: RGB pixels, or VAE latents. Stored as "pixels" / "latents".</summary>
public enum VideoSampleKind
{
    Pixels,
    Latents,
}
