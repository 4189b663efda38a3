using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Model.Tests.Dit;

public class PatchifierTests
{
    [Theory]
    [InlineData(1, 2, 2, 4, 8, 8)]
    [InlineData(1, 2, 2, 1, 8, 12)]
    [InlineData(1, 2, 2, 3, 7, 5)]
    [InlineData(2, 2, 2, 5, 9, 6)]
    [InlineData(2, 4, 3, 1, 3, 2)]
    public void Unpatchify_after_patchify_is_the_identity_including_sizes_that_need_padding(int pt, int ph, int pw, long t, long h, long w)
    {
        using var scope = Tensor.NewDisposeScope();
        var patchifier = new Patchifier(4, (pt, ph, pw));
        var latent = Tensor.Randn([2, 4, t, h, w]);
        var tokens = patchifier.Patchify(latent);
        var (gt, gh, gw) = patchifier.Grid(t, h, w);
        tokens.Shape.Should().Equal(2, gt * gh * gw, 4L * pt * ph * pw);
        patchifier.Unpatchify(tokens, t, h, w).Equal(latent).Should().BeTrue();
    }

    [Fact]
    public void Each_token_holds_one_spacetime_patch_in_t_h_w_order()
    {
        using var scope = Tensor.NewDisposeScope();
        var patchifier = new Patchifier(1, (1, 2, 2));
        var latent = Tensor.Arange(0.0, 16.0, 1.0, ScalarType.Float32).Reshape(1, 1, 1, 4, 4);
        var tokens = patchifier.Patchify(latent);
        tokens.Select(0, 0).Select(0, 0).ToArray<float>().Should().Equal(0, 1, 4, 5);
        tokens.Select(0, 0).Select(0, 1).ToArray<float>().Should().Equal(2, 3, 6, 7);
        tokens.Select(0, 0).Select(0, 3).ToArray<float>().Should().Equal(10, 11, 14, 15);
    }

    [Fact]
    public void A_latent_with_the_wrong_channel_count_is_rejected()
    {
        using var scope = Tensor.NewDisposeScope();
        var act = () => new Patchifier(4, (1, 2, 2)).Patchify(Tensor.Zeros([1, 3, 2, 4, 4]));
        act.Should().Throw<ArgumentException>().WithMessage("*(N, 4, T, H, W)*[1, 3, 2, 4, 4]*");
    }
}
