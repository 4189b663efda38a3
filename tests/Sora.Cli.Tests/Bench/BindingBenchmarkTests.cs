using Sora.Cli.Bench;

namespace Sora.Cli.Tests.Bench;

public class BindingBenchmarkTests
{
    [Fact]
    public void Ratios_and_overheads_derive_from_the_measured_figures()
    {
        BindingBenchmark.PairedRatio([1.0, 1.0, 1.0], [1.25, 1.0, 0.5]).Should().Be(1.0, "the median of 0.8, 1.0 and 2.0");
        BindingBenchmark.PairedRatio([2.0, 2.0], [1.0, 4.0]).Should().Be(1.25, "the mean of the middle two of 0.5 and 2.0");
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
