using Sora.Torch.NN;

namespace Sora.Torch.Tests.NN;

public class LayersTests
{
    [Fact]
    public void Linear_computes_x_times_weight_transposed_plus_bias()
    {
        using var scope = Tensor.NewDisposeScope();
        using var linear = new Linear(2, 2);
        using (Tensor.NoGrad())
        {
            linear.Weight.CopyFrom<float>([1, 2, 3, 4]);
            linear.Bias!.CopyFrom<float>([10, 20]);
        }

        linear.Forward(Tensor.FromArray(new float[] { 1, 1 }, 1, 2)).ToArray<float>().Should().Equal(13, 27);
    }

    [Fact]
    public void Default_initialisations_follow_torch_bounds()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(3);
        using var linear = new Linear(64, 32);
        var bound = 1 / Math.Sqrt(64);
        linear.Weight.ToArray<float>().Should().OnlyContain(w => Math.Abs(w) <= bound + 1e-6);
        linear.Bias!.ToArray<float>().Should().OnlyContain(b => Math.Abs(b) <= bound + 1e-6);

        using var conv = new Conv3d(4, 8, 3);
        var convBound = 1 / Math.Sqrt(4 * 27);
        conv.Weight.ToArray<float>().Should().OnlyContain(w => Math.Abs(w) <= convBound + 1e-6);
        conv.Weight.Abs().Amax().ItemDouble().Should().BeGreaterThan(convBound * 0.9, "the range is used");

        var t = Init.TruncNormal_(Tensor.Empty([20000]), std: 1, a: -0.5, b: 0.5).ToArray<float>();
        t.Should().OnlyContain(v => v >= -0.5f && v <= 0.5f);
        t.Average(v => (double)v).Should().BeApproximately(0, 0.02);

        var x = Init.XavierUniform_(Tensor.Empty([100, 50]));
        x.Abs().Amax().ItemDouble().Should().BeLessThanOrEqualTo(Math.Sqrt(6.0 / 150) + 1e-6);
        Init.KaimingNormal_(Tensor.Empty([400, 200])).Var().ItemDouble().Should().BeApproximately(2.0 / 200, 0.001);
    }

    [Fact]
    public void Convolution_modules_produce_the_expected_output_shapes()
    {
        using var scope = Tensor.NewDisposeScope();
        using var conv2 = new Conv2d(3, 8, kernelSize: 3, stride: 2, padding: 1);
        conv2.Forward(Tensor.Randn([2, 3, 16, 12])).Shape.Should().Equal(2, 8, 8, 6);

        using var conv3 = new Conv3d(3, 16, (3, 3, 3), stride: (2, 2, 2), padding: (1, 1, 1));
        conv3.Forward(Tensor.Randn([1, 3, 8, 16, 16])).Shape.Should().Equal(1, 16, 4, 8, 8);

        using var up = new ConvTranspose3d(16, 3, (4, 4, 4), stride: (2, 2, 2), padding: (1, 1, 1));
        up.Forward(Tensor.Randn([1, 16, 4, 8, 8])).Shape.Should().Equal(1, 3, 8, 16, 16);
        up.Weight.Shape.Should().Equal(16, 3, 4, 4, 4);

        using var grouped = new Conv3d(4, 8, (1, 3, 3), padding: (0, 1, 1), groups: 2);
        grouped.Weight.Shape.Should().Equal(8, 2, 1, 3, 3);

        var act = () => new Conv2d(3, 8, 3, groups: 2);
        act.Should().Throw<ArgumentException>().WithMessage("*3 input and 8 output channels*2 groups*");
    }

    [Fact]
    public void Norm_layers_normalise_and_embedding_looks_up_rows()
    {
        using var scope = Tensor.NewDisposeScope();
        using var ln = new LayerNorm(4);
        var y = ln.Forward(Tensor.Randn([5, 4]).Mul(3).Add(7));
        y.Mean([-1]).Abs().Amax().ItemDouble().Should().BeLessThan(1e-5);
        y.Var([-1], unbiased: false).Sub(1).Abs().Amax().ItemDouble().Should().BeLessThan(1e-3);

        using var gn = new GroupNorm(2, 4);
        var g = gn.Forward(Tensor.Randn([2, 4, 3, 5]).Mul(5)).Reshape(2, 2, -1);
        g.Mean([-1]).Abs().Amax().ItemDouble().Should().BeLessThan(1e-5);

        using var emb = new Embedding(10, 3);
        var rows = emb.Forward(Tensor.FromArray(new long[] { 7, 2 }));
        rows.Select(0, 0).Equal(emb.Weight.Select(0, 7)).Should().BeTrue();
        rows.Select(0, 1).Equal(emb.Weight.Select(0, 2)).Should().BeTrue();
    }
}
