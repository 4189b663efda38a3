using Sora.Tests.Common;
using Sora.Tools;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary><c>promtool check metrics</c> (Debian's prometheus 2.42) on the running job's real <c>/metrics</c>: no parse error, no lint problem.</summary>
[Trait("Category", "MultiProcess")]
[Collection(RunningJobCollection.Name)]
public sealed class PromtoolTests(RunningJob job)
{
    [Fact]
    public async Task Promtool_finds_nothing_to_report_in_the_jobs_exposition()
    {
        await job.WaitForStepAsync(2, TimeSpan.FromMinutes(3));
        var exposition = await job.MetricsAsync();
        File.WriteAllText(Path.Combine(RunningJob.ArtifactsDirectory, "metrics.txt"), exposition);

        var result = ToolProcess.Run(PrometheusPackage.Promtool, ["check", "metrics"], timeout: TimeSpan.FromSeconds(30), input: exposition);

        // Exit 1 is a parse error, 3 lint problems (a counter without _total, a missing HELP, ...); both print to stderr.
        (result.ExitCode, result.StandardOutput + result.StandardError).Should().Be((0, ""),
            $"promtool must find nothing to report in /metrics (saved as {Path.Combine(RunningJob.ArtifactsDirectory, "metrics.txt")}); it said: {result}");
        MetricExposition.Parse(exposition).Families.Should().ContainKeys("sora_train_steps_total", "sora_rank_step_duration_seconds", "sora_job_info");
    }
}
