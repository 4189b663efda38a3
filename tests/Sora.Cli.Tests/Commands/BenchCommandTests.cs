using System.CommandLine;
using System.Text.Json;

namespace Sora.Cli.Tests.Commands;

[Collection(nameof(ConsoleOutput))]
public class BenchCommandTests
{
    [Fact]
    public void Bench_binding_writes_gemm_figures_for_one_and_all_threads_and_the_call_overhead()
    {
        var json = Path.Combine(Path.GetTempPath(), $"sora-bench-{Guid.NewGuid():N}.json");
        try
        {
            var exit = Run("bench", "binding", "--size", "64", "--iterations", "2", "--repeats", "1", "--calls", "500", "--json", json);
            exit.Should().Be(0);

            using var report = JsonDocument.Parse(File.ReadAllText(json));
            var gemm = report.RootElement.GetProperty("Gemm").EnumerateArray().ToList();
            gemm.Select(g => g.GetProperty("Threads").GetInt32()).Should().Equal(
                Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1]);
            foreach (var row in gemm)
            {
                row.GetProperty("Size").GetInt64().Should().Be(64);
                var binding = row.GetProperty("BindingGflops").GetDouble();
                var native = row.GetProperty("NativeGflops").GetDouble();
                binding.Should().BePositive();
                native.Should().BePositive();
                row.GetProperty("Ratio").GetDouble().Should().BePositive();
            }

            var smallOp = report.RootElement.GetProperty("SmallOp");
            smallOp.GetProperty("BindingNanoseconds").GetDouble().Should().BePositive();
            smallOp.GetProperty("NativeNanoseconds").GetDouble().Should().BePositive();
            report.RootElement.GetProperty("BlasLibrary").GetString().Should().Contain("openblas");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Theory]
    [InlineData("binding", "--size")]
    [InlineData("step", "--steps")]
    [InlineData("step", "--threads")]
    [InlineData("step", "--batch")]
    public void Bench_rejects_a_non_positive_count_naming_the_option(string bench, string option)
    {
        var error = new StringWriter();
        var exit = SoraCommand.Create().Parse(["bench", bench, option, "0"]).Invoke(new InvocationConfiguration { Error = error, Output = TextWriter.Null });
        exit.Should().NotBe(0);
        error.ToString().Should().Contain($"{option} must be at least 1");
    }

    [Fact]
    public void Info_reports_success()
    {
        Run("info").Should().Be(0);
    }

    private static int Run(params string[] args) => SoraCommand.Create().Parse(args).Invoke();
}

/// <summary>Commands write to the process console: run them one at a time.</summary>
[CollectionDefinition(nameof(ConsoleOutput), DisableParallelization = true)]
public class ConsoleOutput;
