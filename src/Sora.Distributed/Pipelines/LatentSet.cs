using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>Clips encoded by the VAE (its posterior means), normalised to unit variance: the DiT's training data.</summary>
public sealed class LatentSet : IDisposable
{
    private LatentSet(IReadOnlyList<LatentSample> train, IReadOnlyList<LatentSample> heldOut, LatentStatistics statistics)
    {
        Train = train;
        HeldOut = heldOut;
        Statistics = statistics;
    }

    public IReadOnlyList<LatentSample> Train { get; }

    public IReadOnlyList<LatentSample> HeldOut { get; }

    public LatentStatistics Statistics { get; }

    /// <param name="vae">The trained VAE.</param>
    /// <param name="data">The clips.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="statistics">The normalisation to use (the VAE stage's committed statistics); null: measured on these latents.</param>
    public static LatentSet Encode(VideoVae vae, VideoSet data, IProgress<string>? progress = null, LatentStatistics? statistics = null)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(data);
        vae.Eval();
        progress?.Report($"encoding {data.Train.Count + data.HeldOut.Count:N0} clips to latents");
        var train = EncodeAll(vae, data.Train);
        var heldOut = EncodeAll(vae, data.HeldOut);
        statistics ??= LatentStatistics.Measure(train.Select(s => s.Latent.Unsqueeze(0)));
        foreach (var sample in train.Concat(heldOut))
        {
            using var scope = Tensor.NewDisposeScope();
            var normalized = statistics.Normalize(sample.Latent.Unsqueeze(0)).Squeeze(0);
            sample.Latent.Copy_(normalized);
        }

        return new LatentSet(train, heldOut, statistics);
    }

    public void Dispose()
    {
        foreach (var sample in Train.Concat(HeldOut))
        {
            sample.Latent.Dispose();
        }
    }

    private static LatentSample[] EncodeAll(VideoVae vae, IReadOnlyList<TrainingClip> clips)
    {
        using var noGrad = Tensor.NoGrad();
        var result = new LatentSample[clips.Count];
        foreach (var group in Enumerable.Range(0, clips.Count).GroupBy(i => (clips[i].Frames, clips[i].Height, clips[i].Width)))
        {
            foreach (var chunk in group.Chunk(32))
            {
                using var scope = Tensor.NewDisposeScope();
                var batch = Tensor.Stack(chunk.Select(i => clips[i].Clip.ToTensor()).ToArray()).OnDevice(vae.Device);

                // Encoded on the VAE's device; the latents stay in host memory, where the DiT's batches are drawn.
                var (mean, _) = vae.Encode(batch);
                mean = mean.To(Device.Cpu);
                for (var j = 0; j < chunk.Length; j++)
                {
                    result[chunk[j]] = new LatentSample(mean.Select(0, j).Clone().DetachFromDisposeScope(), clips[chunk[j]].Caption);
                }
            }
        }

        return result;
    }
}

/// <summary>One encoded clip: its normalised latent (C, T, H, W) and caption.</summary>
public sealed record LatentSample(Tensor Latent, string Caption);
