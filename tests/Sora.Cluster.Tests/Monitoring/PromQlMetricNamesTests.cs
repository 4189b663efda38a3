namespace Sora.Cluster.Tests.Monitoring;

public sealed class PromQlMetricNamesTests
{
    [Theory]
    [InlineData("sora_train_loss{run=~\"$run\"}", "sora_train_loss")]
    [InlineData("histogram_quantile(0.9, sum by (rank, le) (rate(sora_rank_step_duration_seconds_bucket{rank=~\"$rank\"}[$__rate_interval])))", "sora_rank_step_duration_seconds_bucket")]
    [InlineData("time() - sora_checkpoint_last_committed_timestamp_seconds{run=~\"$run\"}", "sora_checkpoint_last_committed_timestamp_seconds")]
    [InlineData("sum(rate(a_total[5m])) by (cause) / on (cause) group_left (x) b offset 1h", "a_total b")]
    [InlineData("sora_job_state{run=~\"$run\", state=\"sum(x)\"} == 1", "sora_job_state")]
    [InlineData("label_values(sora_job_info, run)", "sora_job_info")]
    [InlineData("label_values(rank)", "")]
    [InlineData("avg without (node) (x) * 1e9 + y:recorded:rate5m", "x y:recorded:rate5m")]
    public void Names_are_the_selectors_not_functions_keywords_labels_or_strings(string expression, string names)
    {
        PromQlMetricNames.Selectors(expression).Select(s => s.Name).Should().Equal(names.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_selector_carries_its_matchers()
    {
        PromQlMetricNames.Selectors("rate(m{rank=~\"$rank\"}[1m]) / rate(m[1m])").Should().Equal(
            new MetricSelector("m", "rank=~\"$rank\""), new MetricSelector("m", ""));
    }
}
