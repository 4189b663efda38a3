using Sora.Checkout;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// The dashboard page in Debian's chromium against <see cref="FakeCoordinator"/> (a simulated job behind the same JSON
/// API): what it shows and how it follows the job, in seconds. <c>DashboardBrowserTests</c> runs the same check
/// against a real training job.
/// </summary>
[Trait("Category", "Peers")]
public sealed class DashboardPageTests
{
    private static string Screenshot(string name) => SourceCheckout.PathOf("artifacts", "test-results", name);

    [Fact]
    public async Task The_page_charts_the_job_lists_every_rank_plays_the_samples_and_follows_the_steps_without_reloading()
    {
        using var fake = await FakeCoordinator.StartAsync(ranks: 4);

        var result = await DashboardCheck.RunAsync(fake.LoginUrl, Screenshot("dashboard-fake.png"), "--ranks", "4", "--timeout", "30");

        result.Ok.Should().BeTrue(result.ToString());
        result.ChartPoints.Values.Should().OnlyContain(points => points > 0, "every chart has points");
        result.Ranks.Should().Equal(0, 1, 2, 3);
        result.Stragglers.Should().Equal([1], "the fake's rank 1 is a straggler and its row is flagged");
        result.BestVideoReadyState.Should().BeGreaterThanOrEqualTo(2, "chromium decodes the H.264 sample");
        result.ConsoleErrors.Should().BeEmpty();
        File.Exists(Screenshot("dashboard-fake.png")).Should().BeTrue();
    }

    [Fact]
    public async Task An_expired_session_tells_the_user_to_run_sora_dashboard_for_a_new_link()
    {
        using var fake = await FakeCoordinator.StartAsync(ranks: 2, sessionSeconds: 3);

        var result = await DashboardCheck.RunAsync(fake.LoginUrl, Screenshot("dashboard-expired.png"), "--expect-expired", "--timeout", "30");

        result.Ok.Should().BeTrue(result.ToString());
        result.Json.GetProperty("notice").GetString().Should().Be("session expired: run sora dashboard for a new link");
    }
}
