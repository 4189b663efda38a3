using Sora.Model.Sampling;
using Sora.Torch;

namespace Sora.Model.Tests.Sampling;

public class ConditioningFramesTests
{
    [Fact]
    public void Ends_give_the_start_latents_prefix_and_the_end_latents_suffix()
    {
        using var scope = Tensor.NewDisposeScope();
        var start = Tensor.Randn([2, 4, 5, 3, 3]);
        var end = Tensor.Randn([2, 4, 5, 3, 3]);

        var ends = ConditioningFrames.Ends(start, 2, end, 1);

        ends.Frames.ToArray<bool>().Should().Equal(true, true, false, false, true, true, true, false, false, true);
        ends.Latent.Narrow(2, 0, 2).Equal(start.Narrow(2, 0, 2)).Should().BeTrue();
        ends.Latent.Narrow(2, 4, 1).Equal(end.Narrow(2, 4, 1)).Should().BeTrue();
    }

    [Fact]
    public void Prefix_and_suffix_mark_their_frames()
    {
        using var scope = Tensor.NewDisposeScope();
        var latent = Tensor.Randn([1, 4, 4, 2, 2]);
        ConditioningFrames.Prefix(latent, 1).Frames.ToArray<bool>().Should().Equal(true, false, false, false);
        ConditioningFrames.Suffix(latent, 2).Frames.ToArray<bool>().Should().Equal(false, false, true, true);
    }

    [Fact]
    public void Ends_that_do_not_fit_the_latent_or_each_other_are_named()
    {
        using var scope = Tensor.NewDisposeScope();
        var latent = Tensor.Randn([1, 4, 3, 2, 2]);
        var tooMany = () => ConditioningFrames.Ends(latent, 2, latent, 2);
        tooMany.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*2 frame(s) at the start and 2 at the end of a latent with 3 frames*");
        var none = () => ConditioningFrames.Ends(latent, 1, latent, 0);
        none.Should().Throw<ArgumentOutOfRangeException>();
        var otherShape = () => ConditioningFrames.Ends(latent, 1, Tensor.Randn([1, 4, 4, 2, 2]), 1);
        otherShape.Should().Throw<ArgumentException>().WithMessage("*start latent (1x4x3x2x2) and the end latent (1x4x4x2x2) differ*");
    }
}
