using FluentAssertions;

namespace Sora.Torch.Tests.Runtime;

public sealed class OperatorProfilerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-profile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_profiled_forward_and_backward_names_its_operators_with_their_calls_and_self_time()
    {
        var trace = Path.Combine(_directory, "nested", "step.json");
        using (var scope = Tensor.NewDisposeScope())
        {
            var a = Tensor.Rand([64, 64]).RequiresGrad_();
            var b = Tensor.Rand([64, 64]);
            using (OperatorProfiler.Start(trace))
            {
                for (var i = 0; i < 3; i++)
                {
                    a.MatMul(b).Sigmoid().Sum().Backward();
                }
            }
        }

        File.Exists(trace).Should().BeTrue();
        var summary = OperatorProfiler.Summarize(trace);
        summary.Should().Contain(o => o.Name == "aten::mm" && o.Calls >= 3);
        summary.Should().Contain(o => o.Name == "aten::sigmoid" && o.Calls == 3);
        summary.Should().Contain(o => o.Name.Contains("sigmoid_backward"));
        summary.Should().BeInDescendingOrder(o => o.SelfSeconds);
        summary.Sum(o => o.Fraction).Should().BeApproximately(1.0, 1e-9);
        summary.Should().OnlyContain(o => o.SelfSeconds >= 0);

    }

    [Fact]
    public void Only_one_profiler_records_at_a_time_and_stopping_twice_is_harmless()
    {
        var profiler = OperatorProfiler.Start(Path.Combine(_directory, "a.json"));
        var second = () => OperatorProfiler.Start(Path.Combine(_directory, "b.json"));
        second.Should().Throw<TorchException>().WithMessage("*already recording*");
        profiler.Dispose();
        profiler.Dispose();
        File.Exists(profiler.TracePath).Should().BeTrue();
        using var again = OperatorProfiler.Start(Path.Combine(_directory, "c.json"));
        again.TracePath.Should().EndWith("c.json");
    }
}
