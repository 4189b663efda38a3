using System.Runtime.InteropServices;
using Sora.Data.Dataset;
using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// <c>sora data encode --input</c>: a pixel dataset (Parquet shards) to a latent dataset, one row per row, through a
/// trained VAE (the posterior means, as the DiT trains on), keeping id, caption, text embedding and fps; the
/// payload is the float32 latent (C, T, H, W) and the source names the pixels and the VAE.
/// </summary>
public static class LatentShards
{
    public static long Encode(VideoVae vae, string vaeName, string input, VideoShardWriter writer, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(writer);
        vae.Eval();
        using var noGrad = Tensor.NoGrad();
        long count = 0;
        foreach (var record in new VideoShardReader(input).ReadRecords())
        {
            if (record.Kind != VideoSampleKind.Pixels)
            {
                throw new InvalidDataException($"{input}: sample '{record.Id}' holds {record.Kind.ToString().ToLowerInvariant()}, not pixels; only pixels are encoded");
            }

            using var scope = Tensor.NewDisposeScope();
            var (mean, _) = vae.Encode(record.ToClip().ToTensor().Unsqueeze(0));
            var latent = mean.Squeeze(0).Contiguous();
            var values = latent.ToArray<float>();
            var shape = latent.Shape;
            writer.Write(record with
            {
                Kind = VideoSampleKind.Latents,
                Channels = (int)shape[0],
                Frames = (int)shape[1],
                Height = (int)shape[2],
                Width = (int)shape[3],
                DType = VideoDType.Float32,
                Payload = MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
                Source = $"{record.Source} | vae {vaeName}",
            });
            count++;
            progress?.Report(count);
        }

        return count;
    }
}
