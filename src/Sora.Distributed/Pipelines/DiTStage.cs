using Sora.Data.Loading;
using Sora.Distributed.Configuration;
using Sora.Distributed.Parallel;
using Sora.Distributed.Training;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Text;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Distributed.Pipelines;

/// <summary>Trains the video DiT with rectified flow on normalised latents.</summary>
public static class DiTStage
{
    /// <summary>Fixed times of the held-out loss: the midpoints of ten equal bins of [0, 1].</summary>
    public static IReadOnlyList<double> HeldOutTimes { get; } = Enumerable.Range(0, 10).Select(i => (i + 0.5) / 10).ToArray();

    public static TrainSpec<LatentBatch> Spec(JobConfig job, LatentSet latents, WordTokenizer tokenizer, Action<TrainerState>? onSample = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var stage = job.Training;
        var flow = new RectifiedFlow(job.Flow);
        var heldOut = new HeldOutSet(latents.HeldOut, tokenizer, job.Model.MaxTextTokens, job.Seed);
        Func<long, long, long, long, DiTFlops>? flops = null;
        return new TrainSpec<LatentBatch>
        {
            Name = "dit",
            BuildModel = () =>
            {
                var model = new VideoDiT(job.Model, tokenizer.VocabularySize);
                flops = DiTFlops.Counter(model);
                return model;
            },
            BuildOptimizer = parameters => new AdamW(parameters, stage.LearningRate, weightDecay: stage.WeightDecay),
            Schedule = stage.Schedule,
            BuildData = () => new LatentBatches(latents.Train, tokenizer, job, flow),
            ShareOfBatch = (batch, rank, worldSize) => batch.ShareOf(rank, worldSize),
            ToDevice = (batch, device) => batch.OnDevice(device),
            ShardingUnits = model => ((VideoDiT)model).Blocks,
            Loss = (model, batch) =>
            {
                var dit = (VideoDiT)model;
                var loss = flow.Loss(dit, batch.Latents, batch.CaptionTokens, cleanFrames: batch.CleanFrames, timesteps: batch.Times, noise: batch.Noise);
                var shape = batch.Latents.Shape;
                return new StepLoss(loss.Loss, shape[0], shape[0] * dit.TokenCount(shape[2], shape[3], shape[4]))
                {
                    Flops = flops?.Invoke(shape[0], shape[2], shape[3], shape[4]).Total ?? 0,
                };
            },
            HeldOutLoss = model => heldOut.Loss((VideoDiT)model, flow),
            OnSample = onSample,
        };
    }

    /// <summary>Caption ids of a batch of captions, (N, max_text_tokens) int64.</summary>
    public static Tensor Tokenize(WordTokenizer tokenizer, IEnumerable<string> captions, int length)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = captions.SelectMany(c => tokenizer.Encode(c, length)).ToArray();
        return Tensor.FromSpan<long>(ids, [ids.Length / length, length]);
    }

    /// <summary>
    /// Batches of latents that share a size, with captions tokenised, dropped to the empty caption with the
    /// configured probability (classifier-free guidance), frame masks for conditioning, and the flow's times
    /// and noise: everything random is drawn here for the whole global batch, so data-parallel ranks that
    /// each keep a share train on exactly what one process would.
    /// </summary>
    private sealed class LatentBatches : IBatchSource<LatentBatch>, IResumableBatchSource
    {
        private readonly IReadOnlyList<LatentSample> _samples;
        private readonly WordTokenizer _tokenizer;
        private readonly JobConfig _job;
        private readonly RectifiedFlow _flow;
        private readonly Patchifier _patchifier;
        private readonly BucketBatchSampler<(long, long, long)> _sampler;

        public LatentBatches(IReadOnlyList<LatentSample> samples, WordTokenizer tokenizer, JobConfig job, RectifiedFlow flow)
        {
            _samples = samples;
            _tokenizer = tokenizer;
            _job = job;
            _flow = flow;
            _patchifier = new Patchifier(job.Model.LatentChannels, job.Model.Patch);
            var keys = samples.Select(s => (s.Latent.Size(1), s.Latent.Size(2), s.Latent.Size(3))).ToArray();
            _sampler = new BucketBatchSampler<(long, long, long)>(keys, _ => job.Training.BatchSize, job.Seed);
        }

        public string SaveCursor() => SamplerCursors.Save(_sampler);

        public void RestoreCursor(string cursor) => SamplerCursors.Restore(_sampler, cursor);

        public LatentBatch Next()
        {
            var indices = _sampler.Next();
            var latents = Tensor.Stack(indices.Select(i => _samples[i].Latent).ToArray());
            var tokens = Tokenize(_tokenizer, indices.Select(i => _samples[i].Caption), _job.Model.MaxTextTokens);
            var dropped = Tensor.Rand([indices.Count]).Lt(_job.Flow.CaptionDropout).Unsqueeze(1);
            tokens = tokens.MaskedFill(dropped, WordTokenizer.PadId);
            var frames = latents.Size(2);
            var clean = frames > 1 && _job.Flow.FrameMaskProbability > 0
                ? FrameMasking.Sample(indices.Count, frames, _job.Flow.FrameMaskProbability)
                : null;
            var (gt, gh, gw) = _patchifier.Grid(frames, latents.Size(3), latents.Size(4));
            var times = _flow.SampleTimesteps(indices.Count, gt * gh * gw);
            var noise = _flow.SampleNoise(latents.Shape, latents.DType);
            return new LatentBatch(latents, tokens, clean, times, noise);
        }
    }

    /// <summary>Held-out latents with fixed noise, scored at the fixed times.</summary>
    private sealed class HeldOutSet(IReadOnlyList<LatentSample> samples, WordTokenizer tokenizer, int textLength, ulong seed)
    {
        public double Loss(VideoDiT model, RectifiedFlow flow)
        {
            // Fixed noise from a fixed seed, without disturbing the training generator's stream.
            var saved = RandomState.GetState();
            try
            {
                RandomState.ManualSeed(seed ^ 0x5EEDu);
                double total = 0;
                var count = 0;
                foreach (var group in samples.GroupBy(s => (s.Latent.Size(1), s.Latent.Size(2), s.Latent.Size(3))))
                {
                    using var scope = Tensor.NewDisposeScope();
                    var members = group.ToArray();
                    var device = model.Device;
                    var x0 = Tensor.Stack(members.Select(s => s.Latent).ToArray());

                    // Drawn on the host like the training batches, so the held-out loss is the same numbers on any device.
                    var noise = flow.SampleNoise(x0.Shape).OnDevice(device);
                    x0 = x0.OnDevice(device);
                    var tokens = Tokenize(tokenizer, members.Select(s => s.Caption), textLength).OnDevice(device);
                    foreach (var t in HeldOutTimes)
                    {
                        var times = Tensor.Full([members.Length], t, device: device);
                        var loss = flow.Loss(model, x0, tokens, timesteps: times, noise: noise);
                        total += loss.PerSample.Sum().ItemDouble();
                        count += members.Length;
                    }
                }

                return total / count;
            }
            finally
            {
                RandomState.SetState(saved);
            }
        }
    }
}

/// <summary>
/// One DiT training batch: latents of one size, caption ids, frames kept clean (or null), and the flow's
/// times (N) and noise (the latents' shape), or null to let the loss draw them.
/// </summary>
public sealed record LatentBatch(Tensor Latents, Tensor CaptionTokens, Tensor? CleanFrames, Tensor? Times = null, Tensor? Noise = null)
{
    /// <summary>Rank <paramref name="rank"/>'s share of this global batch (views; see <see cref="BatchShare"/>).</summary>
    public LatentBatch ShareOf(int rank, int worldSize) => new(
        BatchShare.Of(Latents, rank, worldSize),
        BatchShare.Of(CaptionTokens, rank, worldSize),
        BatchShare.OfOptional(CleanFrames, rank, worldSize),
        BatchShare.OfOptional(Times, rank, worldSize),
        BatchShare.OfOptional(Noise, rank, worldSize));

    /// <summary>The batch on <paramref name="device"/> (see <see cref="Tensor.OnDevice"/>).</summary>
    public LatentBatch OnDevice(Device device) =>
        new(Latents.OnDevice(device), CaptionTokens.OnDevice(device), CleanFrames?.OnDevice(device), Times?.OnDevice(device), Noise?.OnDevice(device));
}
