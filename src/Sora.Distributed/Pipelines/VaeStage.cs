using Sora.Data.Loading;
using Sora.Distributed.Configuration;
using Sora.Distributed.Parallel;
using Sora.Distributed.Training;
using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Distributed.Pipelines;

/// <summary>Trains the video VAE on pixel clips with the shared trainer.</summary>
public static class VaeStage
{
    public static TrainSpec<ClipBatch> Spec(JobConfig job, VideoSet data)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(data);
        var stage = job.VaeTraining;
        return new TrainSpec<ClipBatch>
        {
            Name = "vae",
            BuildModel = () => new VideoVae(job.Vae),
            BuildOptimizer = parameters => new AdamW(parameters, stage.LearningRate, weightDecay: stage.WeightDecay),
            Schedule = stage.Schedule,
            BuildData = () => new ClipBatches(data.Train, stage.BatchSize, job.Seed, job.Vae),
            ShareOfBatch = (batch, rank, worldSize) => new ClipBatch(BatchShare.Of(batch.Clips, rank, worldSize), BatchShare.Of(batch.Noise, rank, worldSize)),
            ToDevice = (batch, device) => batch.OnDevice(device),
            Loss = (model, batch) =>
            {
                // The VAE's FLOPs have no closed form: its convolutions count themselves; backward is about twice the forward.
                using var flops = FlopCounter.Start();
                var loss = ((VideoVae)model).Loss(batch.Clips, batch.Noise).Total;
                return new StepLoss(loss, batch.Clips.Size(0), batch.Clips.NumElements / 3) { Flops = 3 * flops.Flops };
            },
            HeldOutLoss = model => ReconstructionError((VideoVae)model, data.HeldOut),
        };
    }

    /// <summary>Mean squared error of decoding the latent means of <paramref name="clips"/>, in [-1, 1] pixel units.</summary>
    public static double ReconstructionError(VideoVae vae, IReadOnlyList<TrainingClip> clips)
    {
        ArgumentNullException.ThrowIfNull(vae);
        using var noGrad = Tensor.NoGrad();
        double total = 0;
        foreach (var sample in clips)
        {
            using var scope = Tensor.NewDisposeScope();
            var x = sample.Clip.ToTensor().Unsqueeze(0).OnDevice(vae.Device);
            var (mean, _) = vae.Encode(x);
            var reconstruction = vae.Decode(mean, sample.Frames, sample.Height, sample.Width);
            total += reconstruction.Sub(x).Square().Mean().ItemDouble();
        }

        return total / clips.Count;
    }

    /// <summary>
    /// Stacks clips of one size into (N, 3, T, H, W) batches, with the posterior sample's noise drawn here for
    /// the whole global batch (so data-parallel ranks keeping a share draw what one process would).
    /// </summary>
    private sealed class ClipBatches(IReadOnlyList<TrainingClip> clips, int batchSize, ulong seed, VaeConfig config) : IBatchSource<ClipBatch>, IResumableBatchSource
    {
        private readonly BucketBatchSampler<(int, int, int)> _sampler =
            new(clips.Select(c => (c.Frames, c.Height, c.Width)).ToArray(), _ => batchSize, seed);

        public string SaveCursor() => SamplerCursors.Save(_sampler);

        public void RestoreCursor(string cursor) => SamplerCursors.Restore(_sampler, cursor);

        public ClipBatch Next()
        {
            var indices = _sampler.Next();
            var tensors = indices.Select(i => clips[i].Clip.ToTensor()).ToArray();
            var batch = Tensor.Stack(tensors);
            foreach (var tensor in tensors)
            {
                tensor.Dispose();
            }

            var (t, h, w) = config.LatentSize(batch.Size(2), batch.Size(3), batch.Size(4));
            return new ClipBatch(batch, Tensor.Randn([batch.Size(0), config.LatentChannels, t, h, w]));
        }
    }
}

/// <summary>One VAE training batch: clips (N, 3, T, H, W) and the posterior sample's ε (N, latent, t, h, w).</summary>
public sealed record ClipBatch(Tensor Clips, Tensor Noise)
{
    /// <summary>The batch on <paramref name="device"/> (see <see cref="Tensor.OnDevice"/>).</summary>
    public ClipBatch OnDevice(Device device) => new(Clips.OnDevice(device), Noise.OnDevice(device));
}
