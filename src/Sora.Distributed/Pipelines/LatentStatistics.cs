using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>Per-channel mean and standard deviation of the VAE's latents, to give the DiT unit-variance inputs.</summary>
public sealed record LatentStatistics(float[] Mean, float[] Std)
{
    /// <summary>Measures latents (N or 1, C, T, H, W) channel by channel.</summary>
    public static LatentStatistics Measure(IEnumerable<Tensor> latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        using var scope = Tensor.NewDisposeScope();
        var flat = Tensor.Cat(latents.Select(l => l.Transpose(0, 1).Reshape(l.Size(1), -1)).ToArray(), 1).To(ScalarType.Float64);
        var mean = flat.Mean([1]).To(ScalarType.Float32).ToArray<float>();
        var std = flat.Var([1], unbiased: false).Sqrt().Clamp(min: 1e-6).To(ScalarType.Float32).ToArray<float>();
        return new LatentStatistics(mean, std);
    }

    /// <summary>(z − mean) / std, channels on dim 1.</summary>
    public Tensor Normalize(Tensor latent) => latent.Sub(Shaped(Mean, latent)).Div(Shaped(Std, latent));

    /// <summary>z · std + mean.</summary>
    public Tensor Denormalize(Tensor latent) => latent.Mul(Shaped(Std, latent)).Add(Shaped(Mean, latent));

    // The per-channel values shaped to broadcast over latent (channels on dim 1), on its device.
    private static Tensor Shaped(float[] values, Tensor latent)
    {
        var shape = new long[latent.Dim];
        Array.Fill(shape, 1);
        shape[1] = values.Length;
        return Tensor.FromSpan<float>(values, shape).OnDevice(latent.Device);
    }
}
