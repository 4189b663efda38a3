namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// The dashboard of a real training job (<see cref="RunningJob"/>, shared with the other monitoring tests) in Debian's
/// chromium, reached the way a user reaches it: a one-time login link. The screenshot stays in the job's artifacts.
/// </summary>
[Trait("Category", "MultiProcess")]
[Collection(RunningJobCollection.Name)]
public sealed class DashboardBrowserTests(RunningJob job)
{
    [Fact]
    public async Task A_running_job_shows_live_charts_every_rank_and_a_sample_video_in_chromium()
    {
        var screenshot = Path.Combine(RunningJob.ArtifactsDirectory, "dashboard.png");

        var result = await DashboardCheck.RunAsync(await job.LoginLinkAsync(), screenshot, "--ranks", $"{job.Ranks}", "--timeout", "180", "--advance-timeout", "20");

        result.Ok.Should().BeTrue(result.ToString());
        result.ChartPoints.Values.Should().OnlyContain(points => points > 0, "every chart has points");
        result.Ranks.Should().Equal(Enumerable.Range(0, job.Ranks), "the rank table lists every rank once");
        result.BestVideoReadyState.Should().BeGreaterThanOrEqualTo(2, "chromium decodes the job's H.264 sample");
        result.ConsoleErrors.Should().BeEmpty();
        File.Exists(screenshot).Should().BeTrue();
    }
}
