using Sora.Cli.Bench;

namespace Sora.Cli.Tests.Bench;

public class BindingBenchmarkTests
{
    [Fact]
    public void Ratios_and_overheads_derive_from_the_measured_figures()
    {
        new GemmResult(1, 2048, BindingGflops: 72, NativeGflops: 80).Ratio.Should().BeApproximately(0.9, 1e-12);
        new SmallOpResult(BindingNanoseconds: 1500, NativeNanoseconds: 1100).OverheadNanoseconds.Should().Be(400);
    }

    [Fact]
    public void Running_restores_the_thread_settings_it_changed()
    {
        var before = Sora.Torch.TorchRuntime.IntraOpThreads;
        new BindingBenchmark { GemmSize = 32, GemmIterations = 1, Repeats = 1, SmallOpIterations = 10, ThreadCounts = [1, 2] }.Run();
        Sora.Torch.TorchRuntime.IntraOpThreads.Should().Be(before);
    }
}
