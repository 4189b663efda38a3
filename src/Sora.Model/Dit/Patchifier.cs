using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>
/// Cuts latents (N, C, T, H, W) into spacetime patches of (pt, ph, pw), one token per patch, and puts
/// them back. Sizes that are not multiples of the patch are padded with zeros and cropped on the way back:
/// every duration, resolution and aspect ratio is used at its native size.
/// </summary>
public sealed class Patchifier
{
    public Patchifier(int channels, (int T, int H, int W) patch)
    {
        Channels = channels;
        Patch = patch;
    }

    public int Channels { get; }

    public (int T, int H, int W) Patch { get; }

    /// <summary>Token grid (T', H', W') for a latent of size (T, H, W).</summary>
    public (long T, long H, long W) Grid(long frames, long height, long width) =>
        (CeilDiv(frames, Patch.T), CeilDiv(height, Patch.H), CeilDiv(width, Patch.W));

    /// <summary>(N, C, T, H, W) → (N, T'·H'·W', C·pt·ph·pw), tokens in (t, h, w) order.</summary>
    public Tensor Patchify(Tensor latent)
    {
        var shape = latent.Shape;
        if (shape.Length != 5 || shape[1] != Channels)
        {
            throw new ArgumentException($"expected a latent (N, {Channels}, T, H, W), got [{string.Join(", ", shape)}]", nameof(latent));
        }

        var (n, t, h, w) = (shape[0], shape[2], shape[3], shape[4]);
        var (gt, gh, gw) = Grid(t, h, w);
        var padded = latent;
        if (gt * Patch.T != t || gh * Patch.H != h || gw * Patch.W != w)
        {
            padded = latent.Pad([0, (gw * Patch.W) - w, 0, (gh * Patch.H) - h, 0, (gt * Patch.T) - t]);
        }

        return padded
            .Reshape(n, Channels, gt, Patch.T, gh, Patch.H, gw, Patch.W)
            .Permute(0, 2, 4, 6, 1, 3, 5, 7)
            .Reshape(n, gt * gh * gw, (long)Channels * Patch.T * Patch.H * Patch.W);
    }

    /// <summary>(N, T'·H'·W', C·pt·ph·pw) → (N, C, T, H, W), cropping the padding Patchify added.</summary>
    public Tensor Unpatchify(Tensor tokens, long frames, long height, long width)
    {
        var (gt, gh, gw) = Grid(frames, height, width);
        var n = tokens.Size(0);
        var full = tokens
            .Reshape(n, gt, gh, gw, Channels, Patch.T, Patch.H, Patch.W)
            .Permute(0, 4, 1, 5, 2, 6, 3, 7)
            .Reshape(n, Channels, gt * Patch.T, gh * Patch.H, gw * Patch.W);
        if (gt * Patch.T == frames && gh * Patch.H == height && gw * Patch.W == width)
        {
            return full;
        }

        return full.Narrow(2, 0, frames).Narrow(3, 0, height).Narrow(4, 0, width);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
