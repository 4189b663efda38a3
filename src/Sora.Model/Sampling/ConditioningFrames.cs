using Sora.Torch;

namespace Sora.Model.Sampling;

/// <summary>
/// Latent frames given as conditioning and held fixed while the rest is generated: the first frame for
/// image-to-video, a prefix to extend forward, a suffix to extend backward.
/// </summary>
/// <param name="Latent">(N, C, T, H, W) latents holding the given frames (other frames are ignored).</param>
/// <param name="Frames">(N, T) bool: which frames are given.</param>
public sealed record ConditioningFrames(Tensor Latent, Tensor Frames)
{
    /// <summary>Frames [0, count) of <paramref name="latent"/> given (image-to-video when count is 1).</summary>
    public static ConditioningFrames Prefix(Tensor latent, long count) => Range(latent, 0, count);

    /// <summary>The last <paramref name="count"/> frames of <paramref name="latent"/> given (extend backward).</summary>
    public static ConditioningFrames Suffix(Tensor latent, long count) => Range(latent, latent.Size(2) - count, count);

    private static ConditioningFrames Range(Tensor latent, long start, long count)
    {
        var (n, frames) = (latent.Size(0), latent.Size(2));
        if (count < 1 || start < 0 || start + count > frames)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"cannot give frames [{start}, {start + count}) of a latent with {frames} frames");
        }

        var mask = new bool[n * frames];
        for (var i = 0; i < n; i++)
        {
            mask.AsSpan((int)((i * frames) + start), (int)count).Fill(true);
        }

        return new ConditioningFrames(latent, Tensor.FromSpan<bool>(mask, [n, frames]));
    }
}
