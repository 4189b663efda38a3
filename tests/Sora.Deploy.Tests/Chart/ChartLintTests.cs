using Sora.Deploy.Tests.Support;

namespace Sora.Deploy.Tests.Chart;

public class ChartLintTests
{
    public static TheoryData<string> ValuesFiles() => new(HelmChart.ShippedValuesFiles);

    [Fact]
    public void The_chart_ships_CPU_GPU_elastic_and_workload_identity_values()
    {
        HelmChart.ShippedValuesFiles.Should().Contain(["values-cpu.yaml", "values-gpu.yaml", "values-elastic.yaml", "values-workload-identity.yaml"]);
    }

    [Fact]
    public void Lint_strict_passes_with_the_default_values()
    {
        var result = HelmChart.Helm("lint", "--strict", ".");
        result.ExitCode.Should().Be(0, result.Output);
        result.StandardOutput.Should().Contain("0 chart(s) failed", result.Output);
    }

    [Theory]
    [MemberData(nameof(ValuesFiles))]
    public void Lint_strict_passes_with_each_shipped_values_file(string valuesFile)
    {
        var result = HelmChart.Helm("lint", "--strict", ".", "-f", valuesFile);
        result.ExitCode.Should().Be(0, result.Output);
        result.StandardOutput.Should().Contain("0 chart(s) failed", result.Output);
    }

    [Fact]
    public void Lint_strict_fails_on_values_the_schema_rejects()
    {
        // The converse of the passing runs above: lint really applies values.schema.json.
        var result = HelmChart.Helm("lint", "--strict", ".", "--set", "nnodes.max=-1");
        result.ExitCode.Should().NotBe(0, result.Output);
        (result.StandardOutput + result.StandardError).Should().Contain("/nnodes/max");
    }
}
