using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Model.Tests.Dit;

public class VideoDiTTests
{
    private static readonly DiTConfig Small = new() { Hidden = 32, Depth = 2, Heads = 2, TextDim = 16, MaxTextTokens = 6, TimestepFrequencies = 32 };

    [Fact]
    public void At_adaLN_zero_initialisation_each_block_is_the_identity_and_the_output_is_zero()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(1);
        using var model = new VideoDiT(Small with { CrossAttention = true }, vocabularySize: 10);
        var x = Tensor.Randn([2, 7, 32]);
        var conditioning = new Conditioning(Tensor.Randn([2, 32]));
        var text = model.TextEncoder.Forward(Tensor.FromArray(new long[] { 2, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0 }, 2, 6));
        foreach (var block in model.Blocks)
        {
            var y = block.Forward(x, conditioning, mask: null, text);
            if (block.CrossAttention is null)
            {
                y.Equal(x).Should().BeTrue();
            }
        }

        var withoutCross = new VideoDiT(Small, vocabularySize: 10);
        foreach (var block in withoutCross.Blocks)
        {
            block.Forward(x, conditioning, mask: null, text).Equal(x).Should().BeTrue("every gate starts at zero");
        }

        var output = withoutCross.Forward(new DiTInput(Tensor.Randn([2, 4, 3, 6, 6]), Tensor.Rand([2]), Tensor.Zeros([2, 6], ScalarType.Int64)));
        output.Shape.Should().Equal(2, 4, 3, 6, 6);
        output.Abs().Amax().ItemDouble().Should().Be(0, "the final layer is zero-initialised");
        withoutCross.Dispose();
    }

    [Theory]
    [InlineData(1, 8, 8)]
    [InlineData(4, 12, 8)]
    [InlineData(3, 5, 7)]
    public void Predictions_have_the_latent_shape_for_any_native_size(long t, long h, long w)
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(2);
        using var model = new VideoDiT(Small, vocabularySize: 10);
        PerturbZeroInit(model);
        var latent = Tensor.Randn([1, 4, t, h, w]);
        var output = model.Forward(new DiTInput(latent, Tensor.Rand([1]), Tensor.FromArray(new long[] { 2, 3, 0, 0, 0, 0 }, 1, 6)));
        output.Shape.Should().Equal(1, 4, t, h, w);
        model.TokenCount(t, h, w).Should().Be(t * ((h + 1) / 2) * ((w + 1) / 2));
    }

    [Fact]
    public void The_caption_changes_the_prediction_and_precomputed_embeddings_replace_the_text_encoder()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(3);
        using var model = new VideoDiT(Small, vocabularySize: 10);
        PerturbZeroInit(model);
        var latent = Tensor.Randn([1, 4, 2, 4, 4]);
        var t = Tensor.Full([1], 0.5);
        var red = model.Forward(new DiTInput(latent, t, Tensor.FromArray(new long[] { 2, 3, 0, 0, 0, 0 }, 1, 6)));
        var blue = model.Forward(new DiTInput(latent, t, Tensor.FromArray(new long[] { 4, 3, 0, 0, 0, 0 }, 1, 6)));
        red.AllClose(blue).Should().BeFalse();

        var embedding = model.TextEncoder.Forward(Tensor.FromArray(new long[] { 2, 3, 0, 0, 0, 0 }, 1, 6)).Pooled;
        var viaEmbedding = model.Forward(new DiTInput(latent, t, CaptionEmbeddings: embedding));
        viaEmbedding.AllClose(red, atol: 1e-6).Should().BeTrue();

        var act = () => model.Forward(new DiTInput(latent, t, CaptionEmbeddings: Tensor.Zeros([1, 5])));
        act.Should().Throw<ArgumentException>().WithMessage("*(N, 16)*[1, 5]*");
    }

    [Fact]
    public void An_empty_caption_uses_the_learned_no_caption_vector()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = new VideoDiT(Small, vocabularySize: 10);
        var text = model.TextEncoder.Forward(Tensor.Zeros([2, 6], ScalarType.Int64));
        text.Pooled.Select(0, 0).Equal(model.TextEncoder.NoCaption).Should().BeTrue();
        text.Sequence.IsNan().Sum().ItemLong().Should().Be(0, "an all-padding caption never produces an empty softmax");
    }

    [Fact]
    public void Overfitting_one_batch_cuts_the_loss_at_least_tenfold()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(4);
        using var model = new VideoDiT(Small with { Hidden = 64, Heads = 4 }, vocabularySize: 10);
        using var optimizer = new AdamW(model.Parameters(), learningRate: 3e-3, weightDecay: 0);
        var flow = new RectifiedFlow(new FlowOptions { ResolutionShift = false });
        var x0 = Tensor.Randn([4, 4, 2, 4, 4]);
        var captions = Tensor.FromArray(new long[] { 2, 3, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0, 5, 3, 0, 0, 0, 0, 2, 6, 0, 0, 0, 0 }, 4, 6);
        var noise = Tensor.Randn(x0.Shape);
        var t = Tensor.FromArray(new float[] { 0.2f, 0.4f, 0.6f, 0.8f });

        double Loss() => flow.Loss(model, x0, captions, timesteps: t, noise: noise).Loss.ItemDouble();
        var initial = Loss();
        for (var step = 0; step < 300; step++)
        {
            using var stepScope = Tensor.NewDisposeScope();
            optimizer.ZeroGrad();
            flow.Loss(model, x0, captions, timesteps: t, noise: noise).Loss.Backward();
            optimizer.Step();
        }

        Loss().Should().BeLessThan(initial / 10, $"it started at {initial}");
    }

    /// <summary>Zero-initialised gates make the model ignore its inputs; give them small values so inputs matter.</summary>
    internal static void PerturbZeroInit(VideoDiT model)
    {
        using var noGrad = Tensor.NoGrad();
        foreach (var (name, parameter) in model.NamedParameters())
        {
            if (name.Contains("adaLN", StringComparison.Ordinal) || name.StartsWith("final_layer.linear", StringComparison.Ordinal))
            {
                parameter.Normal_(0, 0.05);
            }
        }
    }
}
