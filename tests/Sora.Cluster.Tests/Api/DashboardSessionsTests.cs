using Sora.Cluster.Api;

namespace Sora.Cluster.Tests.Api;

/// <summary>One-time dashboard links and the sessions they open.</summary>
public sealed class DashboardSessionsTests
{
    [Fact]
    public void A_link_opens_one_session_and_only_once()
    {
        var sessions = new DashboardSessions();
        var link = sessions.IssueLink();
        link.Should().MatchRegex("^/login\\?code=[0-9a-f]{64}$");
        var code = link["/login?code=".Length..];

        var session = sessions.Redeem(code);
        session.Should().NotBeNull();
        sessions.IsValid(session).Should().BeTrue();
        sessions.Redeem(code).Should().BeNull("a code is used once");
        sessions.IsValid("not-a-session").Should().BeFalse();
        sessions.IsValid(null).Should().BeFalse();
        sessions.Redeem(null).Should().BeNull();
    }

    [Fact]
    public void Codes_and_sessions_expire()
    {
        var now = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        var sessions = new DashboardSessions(() => now);
        var stale = sessions.IssueLink()["/login?code=".Length..];
        now += DashboardSessions.CodeLifetime + TimeSpan.FromSeconds(1);
        sessions.Redeem(stale).Should().BeNull("an unused code expires");

        var fresh2 = sessions.IssueLink()["/login?code=".Length..];
        var session = sessions.Redeem(fresh2);
        sessions.IsValid(session).Should().BeTrue();
        now += DashboardSessions.SessionLifetime + TimeSpan.FromSeconds(1);
        sessions.IsValid(session).Should().BeFalse("a session expires");
    }

    [Fact]
    public void Expired_codes_and_sessions_are_forgotten_not_kept_forever()
    {
        var now = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        var sessions = new DashboardSessions(() => now);
        var used = sessions.IssueLink()["/login?code=".Length..];
        var session = sessions.Redeem(used);
        for (var i = 0; i < 100; i++)
        {
            sessions.IssueLink();
        }

        sessions.Held.Should().Be((100, 1));
        now += DashboardSessions.SessionLifetime + TimeSpan.FromSeconds(1);
        sessions.IssueLink();
        sessions.Held.Should().Be((1, 0), "only the code just issued is left");
        sessions.IsValid(session).Should().BeFalse();
    }
}
