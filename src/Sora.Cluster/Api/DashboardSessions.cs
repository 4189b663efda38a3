using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Sora.Cluster.Api;

/// <summary>
/// How a browser gets into the dashboard without ever holding the job token: a one-time login code (printed by
/// <c>sora launch</c> as a link, or minted by <c>POST /api/dashboard-link</c> for <c>sora dashboard</c>) is redeemed once
/// for a session cookie (HttpOnly, SameSite=Strict). A code that was used or is older than <see cref="CodeLifetime"/>
/// is refused; sessions last <see cref="SessionLifetime"/>. Codes and sessions are random 256-bit values, kept in memory
/// only (a restarted coordinator prints a new link), and pruned once expired whenever a link is issued or redeemed. A
/// session only reads: minting a link needs the bearer token (<see cref="CoordinatorApi"/>), so a link printed in the
/// launch log is good once, and a session cannot outlive its lifetime by minting itself new ones.
/// </summary>
public sealed class DashboardSessions(Func<DateTimeOffset>? clock = null)
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "sora_session";

    /// <summary>How long an unused login code stays valid.</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromHours(24);

    /// <summary>How long a session lasts.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(7);

    private readonly Func<DateTimeOffset> _clock = clock ?? (() => DateTimeOffset.UtcNow);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);

    /// <summary>A new one-time login path: <c>/login?code=…</c>.</summary>
    public string IssueLink()
    {
        Prune();
        var code = NewSecret();
        _codes[code] = _clock() + CodeLifetime;
        return "/login?code=" + code;
    }

    /// <summary>Redeems a login code for a session id; null when the code is unknown, used or expired.</summary>
    public string? Redeem(string? code)
    {
        Prune();
        if (string.IsNullOrEmpty(code) || !_codes.TryRemove(code, out var expires) || expires < _clock())
        {
            return null;
        }

        var session = NewSecret();
        _sessions[session] = _clock() + SessionLifetime;
        return session;
    }

    /// <summary>Unused codes and sessions held (expired ones go at the next issue or redemption).</summary>
    public (int Codes, int Sessions) Held => (_codes.Count, _sessions.Count);

    /// <summary>Whether <paramref name="session"/> is a live session.</summary>
    public bool IsValid(string? session) =>
        !string.IsNullOrEmpty(session) && _sessions.TryGetValue(session, out var expires) && expires >= _clock();

    /// <summary>Forgets expired codes and sessions.</summary>
    public void Prune()
    {
        var now = _clock();
        foreach (var (key, expires) in _codes)
        {
            if (expires < now)
            {
                _codes.TryRemove(key, out _);
            }
        }

        foreach (var (key, expires) in _sessions)
        {
            if (expires < now)
            {
                _sessions.TryRemove(key, out _);
            }
        }
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
