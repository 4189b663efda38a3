using Sora.Distributed.Training;
using Sora.Torch;

namespace Sora.Distributed.Tests.Training;

public class GradientClippingTests
{
    [Fact]
    public void Scales_gradients_to_the_global_norm_limit_and_reports_the_norm_before_clipping()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Tensor.Zeros([2]).RequiresGrad_();
        var b = Tensor.Zeros([1]).RequiresGrad_();
        var none = Tensor.Zeros([1]).RequiresGrad_();
        a.SetGrad(Tensor.FromArray(new float[] { 3, 0 }));
        b.SetGrad(Tensor.FromArray(new float[] { 4 }));

        GradientClipping.ClipByGlobalNorm([a, b, none], maxNorm: 1).Should().BeApproximately(5, 1e-6);
        a.Grad()!.ToArray<float>()[0].Should().BeApproximately(0.6f, 1e-5f);
        b.Grad()!.ToArray<float>()[0].Should().BeApproximately(0.8f, 1e-5f);

        GradientClipping.ClipByGlobalNorm([a, b], maxNorm: 10).Should().BeApproximately(1, 1e-5);
        b.Grad()!.ToArray<float>()[0].Should().BeApproximately(0.8f, 1e-5f, "under the limit nothing changes");
    }
}
