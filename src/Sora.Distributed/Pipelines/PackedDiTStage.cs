using Sora.Data.Loading;
using Sora.Data.Packing;
using Sora.Distributed.Configuration;
using Sora.Distributed.Training;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Text;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// The DiT stage with Patch n' Pack (<c>data.batching.mode: pack</c>): a global batch takes samples of any shape
/// (images and videos, any resolution), each rank packs its share into sequences of
/// <c>data.batching.token_budget</c> tokens with a block-diagonal mask, and the loss is each sample's mean squared
/// velocity error, averaged over samples, as in the bucketed stage.
/// </summary>
public static class PackedDiTStage
{
    private static readonly System.Diagnostics.Metrics.Meter s_meter = new(TrainingMetrics.MeterName);

    // The share of each packed batch's token budget left as padding (Patch n' Pack's waste), per micro-batch.
    private static readonly System.Diagnostics.Metrics.Histogram<double> s_paddingWaste =
        s_meter.CreateHistogram<double>("sora.data.padding_waste", description: "Share of the packed sequences' token budget that is padding");

    public static TrainSpec<PackedLatentBatch> Spec(JobConfig job, LatentSet latents, WordTokenizer tokenizer, Action<TrainerState>? onSample = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (job.Flow.FrameMaskProbability > 0)
        {
            throw new ArgumentException("flow.frame_mask_probability: frame masks are not supported with data.batching.mode: pack yet; set it to 0 or use bucket");
        }

        var bucketed = DiTStage.Spec(job, latents, tokenizer, onSample);
        var flow = new RectifiedFlow(job.Flow);
        var packer = new SequencePacker(job.Data.Batching.TokenBudget);
        Func<long, long, long, long, DiTFlops>? flops = null;
        return new TrainSpec<PackedLatentBatch>
        {
            Name = bucketed.Name,
            BuildModel = () =>
            {
                var model = (VideoDiT)bucketed.BuildModel();
                flops = DiTFlops.Counter(model);
                return model;
            },
            BuildOptimizer = bucketed.BuildOptimizer,
            Schedule = bucketed.Schedule,
            ShardingUnits = bucketed.ShardingUnits,
            HeldOutLoss = bucketed.HeldOutLoss,
            OnSample = bucketed.OnSample,
            BuildData = () => new PackedLatentBatches(latents.Train, tokenizer, job, flow),
            ShareOfBatch = (batch, rank, worldSize) => batch.ShareOf(rank, worldSize),
            ToDevice = (batch, device) => batch.OnDevice(device),
            Loss = (model, batch) => Loss((VideoDiT)model, batch, packer, flops),
        };
    }

    /// <summary>Packs the batch, predicts in one packed forward, and averages each sample's velocity error.</summary>
    /// <param name="model">The DiT.</param>
    /// <param name="batch">This rank's samples.</param>
    /// <param name="packer">Packs them into sequences.</param>
    /// <param name="flops">Counts a sample's model FLOPs from its latent shape (<see cref="DiTFlops.Counter"/>); null: not counted.</param>
    public static StepLoss Loss(VideoDiT model, PackedLatentBatch batch, SequencePacker packer, Func<long, long, long, long, DiTFlops>? flops = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(packer);
        var count = batch.Latents.Count;
        var grids = batch.Latents.Select(x => TokenGrid.ForLatent(x.Size(2), x.Size(3), x.Size(4), model.Config.Patch)).ToArray();
        var packed = packer.Pack(grids);
        s_paddingWaste.Record(packed.PaddingWaste);
        var tokens = Enumerable.Range(0, count)
            .Select(k => model.Patchifier.Patchify(RectifiedFlow.Interpolate(batch.Latents[k], batch.Noise[k], batch.Times.Narrow(0, k, 1))).Select(0, 0))
            .ToArray();
        var device = model.Device;
        var input = new PackedDiTInput(packed.PackTokens(tokens), packed.SegmentIds().OnDevice(device), packed.PositionIds().OnDevice(device), batch.Times, batch.CaptionTokens);
        var predictions = packed.Unpack(model.ForwardPacked(input));
        var total = Tensor.Zeros([], device: device);
        for (var k = 0; k < count; k++)
        {
            var x0 = batch.Latents[k];
            var prediction = model.Patchifier.Unpatchify(predictions[k].Unsqueeze(0), x0.Size(2), x0.Size(3), x0.Size(4));
            total = total.Add(prediction.Sub(RectifiedFlow.Velocity(x0, batch.Noise[k])).Square().Mean());
        }

        return new StepLoss(total.Div(count), count, packed.UsedTokens)
        {
            Flops = flops is null ? 0 : batch.Latents.Sum(x => flops(1, x.Size(2), x.Size(3), x.Size(4)).Total),
        };
    }

    /// <summary>Global batches of samples of any shape, with every random draw made here for the whole batch.</summary>
    private sealed class PackedLatentBatches : IBatchSource<PackedLatentBatch>, IResumableBatchSource
    {
        private readonly IReadOnlyList<LatentSample> _samples;
        private readonly WordTokenizer _tokenizer;
        private readonly JobConfig _job;
        private readonly RectifiedFlow _flow;
        private readonly Patchifier _patchifier;
        private readonly BucketBatchSampler<int> _sampler;

        public PackedLatentBatches(IReadOnlyList<LatentSample> samples, WordTokenizer tokenizer, JobConfig job, RectifiedFlow flow)
        {
            _samples = samples;
            _tokenizer = tokenizer;
            _job = job;
            _flow = flow;
            _patchifier = new Patchifier(job.Model.LatentChannels, job.Model.Patch);
            // One bucket: shapes mix freely; the packer, not stacking, puts them together.
            _sampler = new BucketBatchSampler<int>(new int[samples.Count], _ => job.Training.BatchSize, job.Seed);
        }

        public string SaveCursor() => SamplerCursors.Save(_sampler);

        public void RestoreCursor(string cursor) => SamplerCursors.Restore(_sampler, cursor);

        public PackedLatentBatch Next()
        {
            var indices = _sampler.Next();
            var latents = indices.Select(i => _samples[i].Latent.Unsqueeze(0)).ToArray();
            var tokens = DiTStage.Tokenize(_tokenizer, indices.Select(i => _samples[i].Caption), _job.Model.MaxTextTokens);
            var dropped = Tensor.Rand([indices.Count]).Lt(_job.Flow.CaptionDropout).Unsqueeze(1);
            tokens = tokens.MaskedFill(dropped, WordTokenizer.PadId);
            var times = Tensor.Cat(latents.Select(x =>
            {
                var (gt, gh, gw) = _patchifier.Grid(x.Size(2), x.Size(3), x.Size(4));
                return _flow.SampleTimesteps(1, gt * gh * gw);
            }).ToArray());
            var noise = latents.Select(x => _flow.SampleNoise(x.Shape, x.DType)).ToArray();
            return new PackedLatentBatch(latents, tokens, times, noise);
        }
    }
}

/// <summary>
/// One packed DiT batch before packing: K latents (1, C, T, H, W) of any sizes, their caption ids (K, S), times (K)
/// and noise (one per latent).
/// </summary>
public sealed record PackedLatentBatch(IReadOnlyList<Tensor> Latents, Tensor CaptionTokens, Tensor Times, IReadOnlyList<Tensor> Noise)
{
    /// <summary>Rank <paramref name="rank"/>'s share (the loader's split rule over samples).</summary>
    public PackedLatentBatch ShareOf(int rank, int worldSize)
    {
        var (start, count) = GlobalBatch.RankSlice(Latents.Count, rank, worldSize);
        return new PackedLatentBatch(
            Latents.Skip(start).Take(count).ToArray(),
            CaptionTokens.Narrow(0, start, count),
            Times.Narrow(0, start, count),
            Noise.Skip(start).Take(count).ToArray());
    }

    /// <summary>The batch on <paramref name="device"/> (see <see cref="Tensor.OnDevice"/>).</summary>
    public PackedLatentBatch OnDevice(Device device) => new(
        Latents.Select(x => x.OnDevice(device)).ToArray(), CaptionTokens.OnDevice(device), Times.OnDevice(device), Noise.Select(x => x.OnDevice(device)).ToArray());
}
