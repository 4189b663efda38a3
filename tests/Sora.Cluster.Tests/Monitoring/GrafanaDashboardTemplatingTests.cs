using System.Text.Json;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// cluster/grafana/sora-training.json without a job: a Prometheus datasource variable every panel uses, run and rank
/// variables from label_values, and selectors filtered by them (job-level series by run, per-rank series by rank).
/// </summary>
public sealed class GrafanaDashboardTemplatingTests
{
    private readonly GrafanaDashboard _dashboard = GrafanaDashboard.Load();

    [Fact]
    public void The_dashboard_picks_its_prometheus_through_a_datasource_variable_in_every_panel_and_target()
    {
        var datasource = _dashboard.Variable("datasource");
        datasource.GetProperty("type").GetString().Should().Be("datasource");
        datasource.GetProperty("query").GetString().Should().Be("prometheus");

        foreach (var panel in _dashboard.Panels)
        {
            var title = panel.GetProperty("title").GetString();
            UsesVariable(panel.GetProperty("datasource")).Should().BeTrue($"panel '{title}' must query ${{datasource}}");
            panel.GetProperty("targets").EnumerateArray().Should().NotBeEmpty($"panel '{title}' shows something")
                .And.OnlyContain(t => UsesVariable(t.GetProperty("datasource")), $"every target of '{title}' queries ${{datasource}}");
        }
    }

    [Theory]
    [InlineData("run", "run", false)]
    [InlineData("rank", "rank", true)]
    public void Run_and_rank_variables_list_the_label_values_of_the_jobs_series(string name, string label, bool multi)
    {
        var variable = _dashboard.Variable(name);

        variable.GetProperty("type").GetString().Should().Be("query");
        UsesVariable(variable.GetProperty("datasource")).Should().BeTrue();
        var query = GrafanaDashboard.VariableQuery(variable);
        query.Should().MatchRegex($@"^label_values\(sora_\w+, {label}\)$");
        variable.GetProperty("multi").GetBoolean().Should().Be(multi);
        variable.GetProperty("refresh").GetInt32().Should().BeGreaterThan(0, "the values are read from Prometheus, not frozen into the file");
    }

    [Fact]
    public void Every_selector_is_filtered_by_the_run_or_the_rank_variable()
    {
        var unfiltered = new List<string>();
        foreach (var query in _dashboard.Queries.Where(q => !q.Where.StartsWith("variable", StringComparison.Ordinal)))
        {
            foreach (var selector in PromQlMetricNames.Selectors(query.Expression))
            {
                var expected = selector.Name.StartsWith("sora_rank_", StringComparison.Ordinal) ? "rank=~\"$rank\"" : "run=~\"$run\"";
                if (!selector.Matchers.Contains(expected, StringComparison.Ordinal))
                {
                    unfiltered.Add($"{query.Where}: {selector.Name}{{{selector.Matchers}}} lacks {expected}");
                }
            }
        }

        unfiltered.Should().BeEmpty();
    }

    [Fact]
    public void The_panels_cover_what_an_operator_watches()
    {
        var titles = _dashboard.Panels.Select(p => p.GetProperty("title").GetString()).ToList();
        titles.Should().Contain(["Loss", "Samples/s", "MFU", "Step time quantiles by rank", "Step phases", "Heartbeat age", "Memory", "Stragglers",
            "Restarts by cause", "Round and world size", "Last checkpoint", "Checkpoint age", "Workers by state"]);
        var loss = _dashboard.Panels.Single(p => p.GetProperty("title").GetString() == "Loss");
        loss.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("custom").GetProperty("scaleDistribution").GetProperty("type").GetString().Should().Be("log");
        var phases = _dashboard.Panels.Single(p => p.GetProperty("title").GetString() == "Step phases");
        phases.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("custom").GetProperty("stacking").GetProperty("mode").GetString().Should().Be("normal");
        _dashboard.Queries.Should().Contain(q => q.Expression.Contains("histogram_quantile(0.9, sum by (rank, le) (rate(sora_rank_step_duration_seconds_bucket", StringComparison.Ordinal));
    }

    private static bool UsesVariable(JsonElement datasource) =>
        datasource.ValueKind == JsonValueKind.Object && datasource.GetProperty("uid").GetString() == "${datasource}"
        && datasource.GetProperty("type").GetString() == "prometheus";
}
