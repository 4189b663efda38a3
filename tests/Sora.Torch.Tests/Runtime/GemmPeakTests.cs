using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Runtime;

// It checks the global generator is left alone: no other test may draw from it meanwhile.
[Collection(GlobalRandomCollection.Name)]
public sealed class GemmPeakTests
{
    [Fact]
    public void The_cpu_s_matrix_product_rate_is_measured_without_moving_the_generator()
    {
        RandomState.ManualSeed(5);
        var state = RandomState.GetState();

        var flops = GemmPeak.Measure(Device.Cpu, ScalarType.Float32, 256, runs: 2);

        flops.Should().BeGreaterThan(1e8, "even the reference BLAS does a few hundred MFLOP/s");
        RandomState.GetState().Should().Equal(state, "the operands are constants, so a run's random stream does not depend on when its peak was measured");
    }
}
