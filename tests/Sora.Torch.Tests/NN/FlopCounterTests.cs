using Sora.Torch.NN;

namespace Sora.Torch.Tests.NN;

/// <summary>The FLOP count a stage without a closed form (the VAE) reports its MFU with: multiply-adds × 2 from each call's shapes.</summary>
public sealed class FlopCounterTests
{
    [Fact]
    public void Convolutions_and_linear_layers_count_two_flops_per_multiply_add_while_a_count_is_open()
    {
        using var conv = new Conv3d(4, 8, 3, padding: 1);
        using var linear = new Linear(16, 32);
        using var up = new ConvTranspose3d(8, 2, (1, 2, 2), stride: (1, 2, 2));
        using var scope = Tensor.NewDisposeScope();
        var video = Tensor.Randn([2, 4, 3, 5, 5]);

        double counted;
        using (var count = FlopCounter.Start())
        {
            var h = conv.Forward(video);
            up.Forward(h);
            linear.Forward(Tensor.Randn([6, 16]));
            counted = count.Flops;
        }

        // conv: 2·4·3·5·5 outputs of 8 channels, each 4·27 multiply-adds; transposed: each of the 2·8·3·5·5 inputs spreads
        // over 2·1·2·2 outputs; linear: 6·32 outputs of 16 multiply-adds each.
        var expected = (2.0 * (2 * 8 * 3 * 5 * 5) * (4 * 27)) + (2.0 * (2 * 8 * 3 * 5 * 5) * (2 * 4)) + (2.0 * 6 * 32 * 16);
        counted.Should().Be(expected);
    }

    [Fact]
    public void Nothing_is_counted_outside_a_count_and_an_inner_count_adds_to_the_outer()
    {
        using var linear = new Linear(16, 32);
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Randn([1, 16]);
        linear.Forward(x);

        using var outer = FlopCounter.Start();
        using (var inner = FlopCounter.Start())
        {
            linear.Forward(x);
            inner.Flops.Should().Be(2.0 * 32 * 16);
        }

        linear.Forward(x);
        outer.Flops.Should().Be(2 * 2.0 * 32 * 16, "the first call ran before any count, the inner one's FLOPs join the outer's");
    }
}
