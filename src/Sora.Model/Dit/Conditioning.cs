using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>
/// The adaLN conditioning of a batch: one vector per sample (timestep + text), and optionally a second
/// vector for tokens of frames that are given clean (t = 0), selected per token by <see cref="CleanTokens"/>.
/// In a packed batch, <see cref="Segments"/> says which sample each token belongs to, and every token is
/// modulated by its own sample's vectors.
/// </summary>
/// <param name="Main">(K, hidden): timestep and text, one row per sample.</param>
/// <param name="Clean">(K, hidden): the same with t = 0, for conditioning frames; null when no frame is clean.</param>
/// <param name="CleanTokens">(N, L, 1) bool: true for tokens of clean frames; null when no frame is clean.</param>
/// <param name="Segments">(N, L) int64 row of <paramref name="Main"/> for each token of a packed batch; null when sample n is row n of a plain batch.</param>
public sealed record Conditioning(Tensor Main, Tensor? Clean = null, Tensor? CleanTokens = null, Tensor? Segments = null)
{
    /// <summary>Splits a modulation projection into <paramref name="chunks"/> pieces of (N, 1 or L, hidden).</summary>
    public Tensor[] Modulation(Func<Tensor, Tensor> project, int chunks)
    {
        // Project once per sample, then spread the rows over tokens: the projection never runs per token.
        var main = PerToken(project(Main.Silu())).Chunk(chunks, -1);
        if (Clean is null || CleanTokens is null)
        {
            return main;
        }

        var clean = PerToken(project(Clean.Silu())).Chunk(chunks, -1);
        return main.Zip(clean, (m, c) => Tensor.Where(CleanTokens, c, m)).ToArray();
    }

    /// <summary>x · (1 + scale) + shift.</summary>
    public static Tensor Modulate(Tensor x, Tensor shift, Tensor scale) => x.Mul(scale.Add(1)).Add(shift);

    // (K, D) per sample → (N, 1, D) for a plain batch, (N, L, D) for a packed one.
    private Tensor PerToken(Tensor perSample) =>
        Segments is null
            ? perSample.Unsqueeze(1)
            : perSample.IndexSelect(0, Segments.Reshape(-1)).Reshape(Segments.Size(0), Segments.Size(1), perSample.Size(-1));
}
