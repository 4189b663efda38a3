using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Model.Tests.Vae;

public class CausalConv3dTests
{
    [Theory]
    [InlineData(1, 1, 8, 8)]
    [InlineData(2, 1, 8, 4)]
    [InlineData(2, 2, 8, 4)]
    [InlineData(1, 1, 1, 1)]
    public void Time_is_kept_or_divided_by_the_stride_and_space_by_the_spatial_stride(long temporalStride, long spatialStride, long frames, long expectedFrames)
    {
        using var scope = Tensor.NewDisposeScope();
        using var conv = new CausalConv3d(3, 5, temporalStride: temporalStride, spatialStride: spatialStride);
        conv.Forward(Tensor.Randn([2, 3, frames, 8, 12])).Shape.Should().Equal(2, 5, expectedFrames, 8 / spatialStride, 12 / spatialStride);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Changing_a_frame_changes_no_output_of_an_earlier_block(long temporalStride)
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var conv = new CausalConv3d(2, 3, temporalStride: temporalStride);
        var x = Tensor.Randn([1, 2, 8, 6, 6]);
        var changed = x.Clone();
        changed.Narrow(2, 5, 1).Fill_(7);
        var before = conv.Forward(x);
        var after = conv.Forward(changed);

        // Frame 5 lies in block 5 / stride; every output before that block must be untouched.
        var firstAffected = 5 / temporalStride;
        before.Narrow(2, 0, firstAffected).Equal(after.Narrow(2, 0, firstAffected)).Should().BeTrue();
        before.Narrow(2, firstAffected, 1).Equal(after.Narrow(2, firstAffected, 1)).Should().BeFalse("the block holding the frame sees it");
    }

    [Fact]
    public void A_still_video_stays_still_at_its_start()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var conv = new CausalConv3d(2, 3);
        var frame = Tensor.Randn([1, 2, 1, 6, 6]);
        var output = conv.Forward(frame.Expand(1, 2, 4, 6, 6).Contiguous());
        output.Narrow(2, 0, 1).AllClose(output.Narrow(2, 3, 1), atol: 1e-6).Should().BeTrue("the front padding repeats the first frame");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void One_frame_gives_the_output_and_weight_gradients_of_the_padded_3d_convolution(long spatialStride)
    {
        // An image or a one-latent-frame clip takes the 2-D path; the reference is the general path's padded input.
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(4);
        using var conv = new CausalConv3d(6, 5, spatialStride: spatialStride);
        var frame = Tensor.Randn([2, 6, 1, 9, 7]);
        var fast = conv.Forward(frame);
        fast.Sum().Backward();
        var fastGrad = conv.Conv.Weight.Grad()!.Clone();
        var fastBiasGrad = conv.Conv.Bias!.Grad()!.Clone();
        conv.ZeroGrad();

        var reference = conv.Conv.Forward(Tensor.Cat([frame, frame, frame], dim: 2));
        reference.Sum().Backward();
        fast.Shape.Should().Equal(reference.Shape);
        fast.AllClose(reference, atol: 1e-5).Should().BeTrue();
        fastGrad.AllClose(conv.Conv.Weight.Grad()!, atol: 1e-4).Should().BeTrue();
        fastBiasGrad.AllClose(conv.Conv.Bias!.Grad()!, atol: 1e-4).Should().BeTrue();
    }
}
