using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Distributed.Tests.Training;

public class ExponentialMovingAverageTests
{
    [Fact]
    public void Follows_the_parameters_with_the_warmed_up_decay_and_copies_into_another_module()
    {
        using var scope = Tensor.NewDisposeScope();
        using var linear = new Linear(1, 1, bias: false);
        using (Tensor.NoGrad())
        {
            linear.Weight.Fill_(0);
        }

        using var ema = new ExponentialMovingAverage(linear, decay: 0.9);
        using (Tensor.NoGrad())
        {
            linear.Weight.Fill_(1);
        }

        ema.Update();
        ema.StateDict()["weight"].ItemDouble().Should().BeApproximately(0.9, 1e-7, "the first decay is min(0.9, 1/10) = 0.1");
        ema.Update();
        ema.StateDict()["weight"].ItemDouble().Should().BeApproximately(0.9 + (0.1 * (1 - (2.0 / 11))), 1e-6);
        for (var i = 0; i < 200; i++)
        {
            ema.Update();
        }

        ema.Updates.Should().Be(202);
        using var copy = new Linear(1, 1, bias: false);
        ema.CopyTo(copy);
        copy.Weight.ItemDouble().Should().BeApproximately(1, 1e-6);
    }
}
