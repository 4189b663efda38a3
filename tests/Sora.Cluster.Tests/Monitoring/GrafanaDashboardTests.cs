namespace Sora.Cluster.Tests.Monitoring;

/// <summary>Every metric the Grafana dashboard's queries (panel targets and template variables) use exists in the running job's real exposition.</summary>
[Trait("Category", "MultiProcess")]
[Collection(RunningJobCollection.Name)]
public sealed class GrafanaDashboardTests(RunningJob job)
{
    [Fact]
    public async Task Every_metric_the_dashboard_queries_is_in_the_jobs_exposition()
    {
        await job.WaitForStepAsync(2, TimeSpan.FromMinutes(3));
        var exposition = MetricExposition.Parse(await job.MetricsAsync());
        var queries = GrafanaDashboard.Load().Queries.ToList();
        queries.Should().HaveCountGreaterThan(20);

        var used = queries.SelectMany(q => PromQlMetricNames.Selectors(q.Expression).Select(s => (q.Where, s.Name))).ToList();
        var missing = used.Where(u => !exposition.Declares(u.Name)).Select(u => $"{u.Where}: {u.Name}").ToList();

        missing.Should().BeEmpty($"{GrafanaDashboard.FilePath} may query only what /metrics declares ({string.Join(", ", exposition.Families.Keys.Order())})");
        used.Select(u => u.Name).Should().Contain(["sora_train_loss", "sora_eval_loss", "sora_rank_step_duration_seconds_bucket", "sora_job_restarts_total"]);
    }
}
