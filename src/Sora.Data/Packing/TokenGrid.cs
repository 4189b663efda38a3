namespace Sora.Data.Packing;

/// <summary>The token grid (T', H', W') of one sample: its latent cut into spacetime patches, one token per patch.</summary>
public readonly record struct TokenGrid(int T, int H, int W)
{
    public long Tokens => (long)T * H * W;

    /// <summary>The grid of a latent of (frames, height, width) cut into patches of <paramref name="patch"/> (partial patches count).</summary>
    public static TokenGrid ForLatent(long frames, long height, long width, (int T, int H, int W) patch)
    {
        if (frames < 1 || height < 1 || width < 1)
        {
            throw new ArgumentException($"a latent must be at least 1x1x1, got (T, H, W) = ({frames}, {height}, {width})");
        }

        return new TokenGrid(CeilDiv(frames, patch.T), CeilDiv(height, patch.H), CeilDiv(width, patch.W));
    }

    public override string ToString() => $"{T}x{H}x{W} tokens";

    private static int CeilDiv(long a, int b) => b >= 1 ? checked((int)((a + b - 1) / b)) : throw new ArgumentOutOfRangeException(nameof(b), $"patch sizes must be >= 1 (got {b})");
}
