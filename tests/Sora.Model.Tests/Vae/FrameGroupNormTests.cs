using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Tests.Vae;

public class FrameGroupNormTests
{
    [Fact]
    public void Each_frame_is_normalised_as_an_image_on_its_own()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var norm = new FrameGroupNorm(2, 4);
        Init.Normal_(norm.Norm.Weight!);
        Init.Normal_(norm.Norm.Bias!);
        var x = Tensor.Randn([2, 4, 3, 5, 6]).Mul(Tensor.FromArray(new float[] { 1, 10, 100 }, 1, 1, 3, 1, 1));
        var output = norm.Forward(x);
        output.Shape.Should().Equal(2, 4, 3, 5, 6);
        for (var t = 0; t < 3; t++)
        {
            var expected = Functional.GroupNorm(x.Select(2, t), 2, norm.Norm.Weight, norm.Norm.Bias, norm.Norm.Eps);
            output.Select(2, t).AllClose(expected, atol: 1e-5).Should().BeTrue($"frame {t} is normalised with its own statistics");
        }
    }
}
