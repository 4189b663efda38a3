using Sora.Torch;

namespace Sora.Model.Sampling;

/// <summary>
/// Latent frames given as conditioning and held fixed while the rest is generated: the first frame for
/// image-to-video, a prefix to extend forward, a suffix to extend backward, a prefix and a suffix to connect two videos.
/// </summary>
/// <param name="Latent">(N, C, T, H, W) latents holding the given frames (other frames are ignored).</param>
/// <param name="Frames">(N, T) bool: which frames are given.</param>
public sealed record ConditioningFrames(Tensor Latent, Tensor Frames)
{
    /// <summary>Frames [0, count) of <paramref name="latent"/> given (image-to-video when count is 1).</summary>
    public static ConditioningFrames Prefix(Tensor latent, long count) => Known(latent, (0, count));

    /// <summary>The last <paramref name="count"/> frames of <paramref name="latent"/> given (extend backward).</summary>
    public static ConditioningFrames Suffix(Tensor latent, long count) => Known(latent, (latent.Size(2) - count, count));

    /// <summary>
    /// A video that starts as <paramref name="start"/> and ends as <paramref name="end"/>: the first <paramref name="prefix"/>
    /// latent frames of <paramref name="start"/> and the last <paramref name="suffix"/> of <paramref name="end"/> given, the frames between generated.
    /// </summary>
    public static ConditioningFrames Ends(Tensor start, long prefix, Tensor end, long suffix)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        if (!start.Shape.SequenceEqual(end.Shape))
        {
            throw new ArgumentException($"the start latent ({string.Join("x", start.Shape)}) and the end latent ({string.Join("x", end.Shape)}) differ in shape", nameof(end));
        }

        var frames = start.Size(2);
        if (prefix < 1 || suffix < 1 || prefix + suffix > frames)
        {
            throw new ArgumentOutOfRangeException(nameof(suffix), $"cannot give {prefix} frame(s) at the start and {suffix} at the end of a latent with {frames} frames");
        }

        var latent = Tensor.Cat([start.Narrow(2, 0, frames - suffix), end.Narrow(2, frames - suffix, suffix)], 2);
        return Known(latent, (0, prefix), (frames - suffix, suffix));
    }

    // Marks the frame ranges [start, start + count) of every sample as given.
    private static ConditioningFrames Known(Tensor latent, params ReadOnlySpan<(long Start, long Count)> ranges)
    {
        ArgumentNullException.ThrowIfNull(latent);
        var (n, frames) = (latent.Size(0), latent.Size(2));
        var row = new bool[frames];
        foreach (var (start, count) in ranges)
        {
            if (count < 1 || start < 0 || start + count > frames)
            {
                throw new ArgumentOutOfRangeException(nameof(ranges), $"cannot give frames [{start}, {start + count}) of a latent with {frames} frames");
            }

            row.AsSpan((int)start, (int)count).Fill(true);
        }

        var mask = new bool[n * frames];
        for (var i = 0; i < n; i++)
        {
            row.CopyTo(mask.AsSpan((int)(i * frames)));
        }

        return new ConditioningFrames(latent, Tensor.FromSpan<bool>(mask, [n, frames]).OnDevice(latent.Device));
    }
}
