using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>
/// The adaLN conditioning of a batch: one vector per sample (timestep + text), and optionally a second
/// vector for tokens of frames that are given clean (t = 0), selected per token by <see cref="CleanTokens"/>.
/// </summary>
/// <param name="Main">(N, hidden): timestep and text.</param>
/// <param name="Clean">(N, hidden): the same with t = 0, for conditioning frames; null when no frame is clean.</param>
/// <param name="CleanTokens">(N, L, 1) bool: true for tokens of clean frames; null when no frame is clean.</param>
public sealed record Conditioning(Tensor Main, Tensor? Clean = null, Tensor? CleanTokens = null)
{
    /// <summary>Splits a modulation projection into <paramref name="chunks"/> pieces of (N, 1 or L, hidden).</summary>
    public Tensor[] Modulation(Func<Tensor, Tensor> project, int chunks)
    {
        var main = project(Main.Silu()).Unsqueeze(1).Chunk(chunks, -1);
        if (Clean is null || CleanTokens is null)
        {
            return main;
        }

        var clean = project(Clean.Silu()).Unsqueeze(1).Chunk(chunks, -1);
        return main.Zip(clean, (m, c) => Tensor.Where(CleanTokens, c, m)).ToArray();
    }

    /// <summary>x · (1 + scale) + shift.</summary>
    public static Tensor Modulate(Tensor x, Tensor shift, Tensor scale) => x.Mul(scale.Add(1)).Add(shift);
}
