using Sora.Data.Loading;
using Sora.Data.Synthetic;
using Sora.Distributed.Configuration;
using Sora.Distributed.Training;
using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Distributed.Pipelines;

/// <summary>Trains the video VAE on pixel clips with the shared trainer.</summary>
public static class VaeStage
{
    public static TrainSpec<Tensor> Spec(JobConfig job, SyntheticVideoSet data)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(data);
        var stage = job.VaeTraining;
        return new TrainSpec<Tensor>
        {
            Name = "vae",
            BuildModel = () => new VideoVae(job.Vae),
            BuildOptimizer = parameters => new AdamW(parameters, stage.LearningRate, weightDecay: stage.WeightDecay),
            Schedule = stage.Schedule,
            BuildData = () => new ClipBatches(data.Train, stage.BatchSize, job.Seed),
            Loss = (model, batch) => new StepLoss(((VideoVae)model).Loss(batch).Total, batch.Size(0), batch.NumElements / 3),
            HeldOutLoss = model => ReconstructionError((VideoVae)model, data.HeldOut),
        };
    }

    /// <summary>Mean squared error of decoding the latent means of <paramref name="clips"/>, in [-1, 1] pixel units.</summary>
    public static double ReconstructionError(VideoVae vae, IReadOnlyList<MovingShapesSample> clips)
    {
        ArgumentNullException.ThrowIfNull(vae);
        using var noGrad = Tensor.NoGrad();
        double total = 0;
        foreach (var sample in clips)
        {
            using var scope = Tensor.NewDisposeScope();
            var x = sample.Clip.ToTensor().Unsqueeze(0);
            var (mean, _) = vae.Encode(x);
            var reconstruction = vae.Decode(mean, sample.Frames, sample.Height, sample.Width);
            total += reconstruction.Sub(x).Square().Mean().ItemDouble();
        }

        return total / clips.Count;
    }

    /// <summary>Stacks clips of one size into (N, 3, T, H, W) batches.</summary>
    private sealed class ClipBatches(IReadOnlyList<MovingShapesSample> clips, int batchSize, ulong seed) : IBatchSource<Tensor>
    {
        private readonly BucketBatchSampler<(int, int, int)> _sampler =
            new(clips.Select(c => (c.Frames, c.Height, c.Width)).ToArray(), _ => batchSize, seed);

        public Tensor Next()
        {
            var indices = _sampler.Next();
            var tensors = indices.Select(i => clips[i].Clip.ToTensor()).ToArray();
            var batch = Tensor.Stack(tensors);
            foreach (var tensor in tensors)
            {
                tensor.Dispose();
            }

            return batch;
        }
    }
}
