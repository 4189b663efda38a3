using System.Globalization;
using Xunit.Abstractions;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// A real Prometheus (Debian's 2.42) scraping the running job's coordinator with the shipped cluster/prometheus.yml
/// (rendered with the job's address, its token file and a 1 s interval): PromQL through its HTTP API returns the
/// job's step counter and every rank's series.
/// </summary>
[Trait("Category", "MultiProcess")]
[Collection(RunningJobCollection.Name)]
public sealed class PrometheusScrapeTests(RunningJob job, ITestOutputHelper output)
{
    // The first scrape lands ~5-6 s after start even at 1 s; the rest is slack for a loaded machine.
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Prometheus_scrapes_the_step_counter_and_every_ranks_series_with_the_jobs_token()
    {
        await job.WaitForStepAsync(2, TimeSpan.FromMinutes(3));
        var target = new Uri(job.BaseUrl).Authority;
        await using var prometheus = await PrometheusServer.StartAsync(target, job.TokenFile);
        try
        {
            var steps = await prometheus.Api.WaitForAsync("sora_train_steps_total", r => r.Any(s => s.Value > 0), ScrapeTimeout);
            steps.Should().ContainSingle().Which.Labels.Should().ContainKey("run").And.Contain("job", "sora");

            for (var rank = 0; rank < job.Ranks; rank++)
            {
                var query = string.Create(CultureInfo.InvariantCulture, $"sora_rank_step_duration_seconds_count{{rank=\"{rank}\"}}");
                var series = await prometheus.Api.WaitForAsync(query, r => r.Count > 0, ScrapeTimeout);
                series.Should().ContainSingle().Which.Labels.Should().ContainKey("node");
            }

            (await prometheus.Api.QueryAsync("up{job=\"sora\"}")).Should().ContainSingle().Which.Value.Should().Be(1);
        }
        catch
        {
            output.WriteLine($"prometheus configuration ({prometheus.ConfigFile}):\n{File.ReadAllText(prometheus.ConfigFile)}");
            output.WriteLine($"prometheus log:\n{prometheus.Log}");
            throw;
        }
    }
}
