using Sora.Data.Packing;
using Sora.Distributed.Pipelines;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;

namespace Sora.Distributed.Tests.Pipelines;

[Collection(nameof(Training.TrainerTests))]
public sealed class PackedDiTStageTests
{
    [Fact]
    public void The_packed_loss_is_the_mean_of_each_samples_loss_run_alone()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(12);
        using var model = new VideoDiT(DiTConfig.Preset("tiny") with { Depth = 2 }, vocabularySize: 16);
        // adaLN-Zero starts every block as the identity and the final layer at zero: perturb so the test sees a real network.
        foreach (var parameter in model.Parameters())
        {
            using var noise = Tensor.Randn(parameter.Shape).Mul(0.05);
            using var noGrad = Tensor.NoGrad();
            parameter.Add_(noise);
        }

        (long T, long H, long W)[] sizes = [(4, 8, 8), (1, 8, 12), (4, 8, 12)]; // a video, an image, another aspect ratio
        var channels = model.Config.LatentChannels;
        var latents = sizes.Select(s => Tensor.Randn([1, channels, s.T, s.H, s.W])).ToArray();
        var noises = latents.Select(x => Tensor.Randn(x.Shape)).ToArray();
        var times = Tensor.FromArray(new[] { 0.2f, 0.6f, 0.9f });
        var captions = Tensor.FromArray(new long[] { 3, 4, 0, 5, 0, 0, 6, 7, 8 }, 3, 3);
        var batch = new PackedLatentBatch(latents, captions, times, noises);

        var flow = new RectifiedFlow();
        var alone = Enumerable.Range(0, 3)
            .Select(k => flow.Loss(model, latents[k], captions.Narrow(0, k, 1), timesteps: times.Narrow(0, k, 1), noise: noises[k]).Loss.ItemDouble())
            .Average();
        var packed = PackedDiTStage.Loss(model, batch, new SequencePacker(tokenBudget: 128));

        // fp32: masked attention over more keys in another order; measured differences are ~1e-7 relative.
        packed.Loss.ItemDouble().Should().BeApproximately(alone, 1e-5 * alone);
        packed.Samples.Should().Be(3);
        packed.Tokens.Should().Be(sizes.Sum(s => model.TokenCount(s.T, s.H, s.W)));
    }

    [Fact]
    public void A_share_of_a_packed_batch_keeps_the_ranks_samples_with_their_draws()
    {
        using var scope = Tensor.NewDisposeScope();
        var latents = Enumerable.Range(0, 4).Select(k => Tensor.Full([1, 2, 1, 2, 2], k)).ToArray();
        var batch = new PackedLatentBatch(latents, Tensor.Arange(8).Reshape(4, 2), Tensor.FromArray(new[] { 0.1f, 0.2f, 0.3f, 0.4f }), latents);
        var share = batch.ShareOf(rank: 1, worldSize: 2);
        share.Latents.Select(x => x.ToArray<float>()[0]).Should().Equal(2, 3);
        share.Times.ToArray<float>().Should().Equal(0.3f, 0.4f);
        share.CaptionTokens.ToArray<long>().Should().Equal(4, 5, 6, 7);
        var act = () => batch.ShareOf(0, 3);
        act.Should().Throw<ArgumentException>().WithMessage("*global batch size 4 must be a positive multiple of the world size 3*");
    }
}
