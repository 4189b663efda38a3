using Sora.Model.Dit;
using Sora.Model.Tests.Support;
using Sora.Model.Text;
using Sora.Torch;

namespace Sora.Model.Tests.Text;

[Collection(GlobalRandomCollection.Name)]
public class TextEncoderTests
{
    [Fact]
    public void Before_any_training_captions_that_differ_in_one_word_have_clearly_different_pooled_vectors()
    {
        // A frozen (untrained) encoder is only usable if it already tells captions apart by any single word.
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        RandomState.ManualSeed(11);
        string[] captions =
        [
            "a red circle moves left on a black background",
            "a red circle moves right on a black background",
            "a red circle moves up on a black background",
            "a blue circle moves left on a black background",
        ];
        var tokenizer = WordTokenizer.Build(captions);
        using var encoder = new TextEncoder(tokenizer.VocabularySize, DiTConfig.Tiny);
        var ids = captions.SelectMany(c => tokenizer.Encode(c, DiTConfig.Tiny.MaxTextTokens)).ToArray();
        var pooled = encoder.Forward(Tensor.FromSpan<long>(ids, [captions.Length, DiTConfig.Tiny.MaxTextTokens])).Pooled;
        var norm = pooled.Select(0, 0).Norm().ItemDouble();
        for (var other = 1; other < captions.Length; other++)
        {
            var distance = pooled.Select(0, 0).Sub(pooled.Select(0, other)).Norm().ItemDouble();
            distance.Should().BeGreaterThan(0.2 * norm, $"'{captions[0]}' and '{captions[other]}' must be told apart");
        }
    }

    [Fact]
    public void A_frozen_text_encoder_gets_no_gradient_while_the_rest_of_the_dit_trains()
    {
        using var scope = Tensor.NewDisposeScope();
        var config = DiTConfig.Tiny with { Hidden = 32, Heads = 2, Depth = 1, TextDim = 16, TrainTextEncoder = false };
        using var model = new VideoDiT(config, vocabularySize: 12);
        model.TextEncoder.Parameters().Should().OnlyContain(p => !p.RequiresGrad);
        var latent = Tensor.Randn([2, config.LatentChannels, 2, 4, 4]);
        var tokens = Tensor.FromSpan<long>([2, 3, 4, 0, 5, 6, 0, 0], [2, 4]);
        model.Forward(new DiTInput(latent, Tensor.Full([2], 0.5), tokens)).Square().Sum().Backward();
        model.TextEncoder.Parameters().Should().OnlyContain(p => p.Grad() == null);
        model.TextProjection.Weight.Grad().Should().NotBeNull("the projection of the fixed caption vector still learns");
        using var trained = new VideoDiT(config with { TrainTextEncoder = true }, vocabularySize: 12);
        trained.TextEncoder.Parameters().Should().OnlyContain(p => p.RequiresGrad);
    }
}
