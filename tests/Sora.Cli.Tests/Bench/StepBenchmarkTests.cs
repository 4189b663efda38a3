using Sora.Cli.Bench;
using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Cli.Tests.Bench;

[Collection(nameof(Commands.ConsoleOutput))]
public class StepBenchmarkTests
{
    [Fact]
    public void A_step_report_is_consistent_and_leaves_the_threads_it_trained_with()
    {
        var before = TorchRuntime.IntraOpThreads;
        try
        {
            // Two threads: the peak is also measured as one single-threaded product per thread, which sets the
            // thread counts to 1 for a moment; the timed steps must still run on both.
            var report = new StepBenchmark { Config = DiTConfig.Preset("tiny"), Batch = 2, Latent = (2, 8, 8), Steps = 1, Warmup = 1, Threads = 2 }.Run();

            TorchRuntime.IntraOpThreads.Should().Be(2);
            TorchRuntime.BlasThreads.Should().Be(2);
            report.Threads.Should().Be(2);
            report.StepSeconds.Should().BePositive();
            report.SamplesPerSecond.Should().BeApproximately(2 / report.StepSeconds, 1e-9);
            report.SamplesPerSecondPerRank.Should().Be(report.SamplesPerSecond);
            report.Flops.Total.Should().Be(report.Flops.Linear + report.Flops.Attention + report.Flops.Conditioning + report.Flops.Text);
            report.AchievedGflops.Should().BeApproximately(report.Flops.Total / report.StepSeconds / 1e9, 1e-9);
            report.PeakGflops.Should().BePositive();
            report.Mfu.Should().BeApproximately(report.AchievedGflops / report.PeakGflops, 1e-12);
        }
        finally
        {
            TorchRuntime.SetThreads(before);
        }
    }
}
