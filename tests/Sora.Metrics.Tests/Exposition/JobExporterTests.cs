using System.Text;
using System.Text.RegularExpressions;
using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;
using Sora.Metrics.Tests.Job;

namespace Sora.Metrics.Tests.Exposition;

/// <summary>The Prometheus exposition of the job's state, and its reference page.</summary>
public sealed partial class JobExporterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Every_metric_is_in_docs_metrics_md_and_every_documented_metric_is_exposed()
    {
        var text = await Exposition(Everything());
        var exposed = HelpPattern().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        var documented = RowPattern().Matches(File.ReadAllText(DocsFile)).Select(m => m.Groups[1].Value).ToHashSet();

        exposed.Should().NotBeEmpty();
        exposed.Except(documented).Should().BeEmpty("every exposed metric needs a row in docs/metrics.md");
        documented.Except(exposed).Should().BeEmpty("every row of docs/metrics.md names a metric the coordinator exposes");
    }

    [Fact]
    public async Task A_rank_that_leaves_the_round_takes_its_series_with_it_and_restarts_count_by_cause()
    {
        var metrics = new JobMetrics(new JobInfo("job", "job-1", "m", 100, "1", "/c"));
        metrics.Publish(JobMetricsTests.Status(1, 2), [Rank(0), Rank(1)], T0);
        (await Exposition(metrics)).Should().Contain("rank=\"1\"");

        var restart = new RestartRecord(1, T0, "node lost", "node-lost");
        metrics.Publish(JobMetricsTests.Status(2, 1) with { Restarts = [restart] }, [Rank(0)], T0.AddSeconds(1));
        var text = await Exposition(metrics);
        text.Should().NotContain("rank=\"1\"");
        text.Should().Contain("sora_job_restarts_total{run=\"job-1\",cause=\"node-lost\"} 1");
        text.Should().Contain("sora_job_restarts_total{run=\"job-1\",cause=\"worker-exit\"} 0");
        text.Should().Contain("sora_job_info{run=\"job-1\",job=\"job\",model=\"m\",world_size=\"1\",total_steps=\"100\",version=\"1\"} 1");
        Regex.Matches(text, "^sora_job_info", RegexOptions.Multiline).Should().HaveCount(1, "the old world size's info series is gone");
    }

    [Fact]
    public async Task Step_durations_are_observed_once_each_even_when_reports_overlap()
    {
        var metrics = new JobMetrics(new JobInfo("job", "job-1", "m", 100, "1", "/c"));
        metrics.Publish(JobMetricsTests.Status(1, 1), [new RankReport(0, 7, new RankMetrics { Stage = "dit", StepsTotal = 3, RecentSteps = [1, 2, 3], RecentStepSeconds = [0.1, 0.2, 0.3], RecentLosses = [1, 1, 1] })], T0);
        metrics.Publish(JobMetricsTests.Status(1, 1), [new RankReport(0, 7, new RankMetrics { Stage = "dit", StepsTotal = 4, RecentSteps = [2, 3, 4], RecentStepSeconds = [0.2, 0.3, 0.4], RecentLosses = [1, 1, 1] })], T0.AddSeconds(1));
        var text = await Exposition(metrics);
        text.Should().Contain("sora_rank_step_duration_seconds_count{rank=\"0\",node=\"node0\"} 4");
        text.Should().MatchRegex("sora_rank_step_duration_seconds_sum\\{rank=\"0\",node=\"node0\"\\} 1(\\.0+[0-9]*)?\\n");
    }

    private static RankReport Rank(int rank) => new(rank, rank + 1, new RankMetrics { Stage = "dit", StepsTotal = 1, StepSeconds = 0.1 });

    /// <summary>A state in which every metric has a value: a committed checkpoint, a held-out loss, a device, MFU, a restart.</summary>
    private static JobMetrics Everything()
    {
        var metrics = new JobMetrics(new JobInfo("job", "job-1", "m", 100, "1", "/c"));
        var full = new RankMetrics
        {
            Stage = "dit", Step = 10, TotalSteps = 100, StepsTotal = 10, SamplesTotal = 80, TokensTotal = 800, FlopsTotal = 1e9, Loss = 0.3, HeldOutLoss = 0.4, HeldOutStep = 10,
            GradientNorm = 1, LearningRate = 1e-3, StepSeconds = 0.1, DataSeconds = 0.01, ComputeSeconds = 0.07, OptimizerSeconds = 0.01, CommunicationSeconds = 0.01,
            BusySeconds = 0.09, DataWaitSecondsTotal = 0.1, LoaderQueueDepth = 2, PaddingWasteRatio = 0.1, FlopsPerSecond = 1e10, PeakFlopsPerSecond = 1e11,
            CheckpointSavesTotal = 1, CheckpointSaveStep = 10, CheckpointSaveSeconds = 0.2, CheckpointSaveBytes = 1000, CheckpointLoadSeconds = 0.1, CheckpointLoadBytes = 1000,
            CommittedStep = 10, CommittedAtUnixSeconds = T0.ToUnixTimeSeconds(), DeviceBytes = 1 << 30,
            RecentSteps = [9, 10], RecentStepSeconds = [0.1, 0.1], RecentLosses = [0.3, 0.3],
        };
        metrics.Publish(JobMetricsTests.Status(1, 2) with { Restarts = [new RestartRecord(1, T0, "x", "hang")] }, [new RankReport(0, 1, full), new RankReport(1, 2, full)], T0);
        return metrics;
    }

    private static async Task<string> Exposition(JobMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Exporter.WriteAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string DocsFile
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sora.Distributed.sln")))
            {
                directory = directory.Parent;
            }

            return Path.Combine(directory!.FullName, "docs", "metrics.md");
        }
    }

    [GeneratedRegex("^# HELP (\\S+) ", RegexOptions.Multiline)]
    private static partial Regex HelpPattern();

    [GeneratedRegex("^\\| `(sora_[a-z_]+)` \\|", RegexOptions.Multiline)]
    private static partial Regex RowPattern();
}
