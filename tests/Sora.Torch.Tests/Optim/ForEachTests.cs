using Sora.Torch.Optim;

namespace Sora.Torch.Tests.Optim;

public class ForEachTests
{
    [Fact]
    public void Norm_treats_all_tensors_as_one_vector_and_scale_multiplies_each()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Tensor.FromArray(new float[] { 3, 0 });
        var b = Tensor.FromArray(new float[] { 4 });
        ForEach.Norm([a, b]).Should().BeApproximately(5, 1e-6);
        ForEach.Norm([a, b], p: 1).Should().BeApproximately(7, 1e-6);
        ForEach.Scale_([a, b], 0.5);
        a.ToArray<float>().Should().Equal(1.5f, 0);
        b.ToArray<float>().Should().Equal(2f);
        ForEach.Norm([]).Should().Be(0);
    }
}
