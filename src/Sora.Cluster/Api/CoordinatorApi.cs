using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Api;

/// <summary>
/// The coordinator's HTTP API. Open: <c>GET /healthz</c> (probes), the dashboard's static files (<c>/</c>,
/// <c>/dashboard/…</c>: no job data) and <c>GET /login?code=…</c> (redeems a one-time link for a session cookie).
/// Reading needs <c>Authorization: Bearer &lt;job token&gt;</c> or a dashboard session cookie, or gets 401:
/// <c>/metrics</c> (Prometheus), <c>/api/status</c>, <c>/api/job</c>, <c>/api/ranks</c>, <c>/api/history</c>,
/// <c>/api/checkpoints</c>, <c>/api/samples</c> (and each sample's video), <c>/api/events</c> (server-sent events: one
/// per update of the job's metrics). All of them read one state, <see cref="JobMetrics"/>, which the coordinator
/// publishes. Changing anything needs the bearer token itself, a session is not enough: <c>POST /api/stop</c> and
/// <c>POST /api/dashboard-link</c> (so a browser session cannot make itself new links, nor stop the job).
/// </summary>
public static class CoordinatorApi
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Adds the authentication and the endpoints to <paramref name="app"/>.</summary>
    /// <remarks>The endpoints that ask the coordinator take a <see cref="CoordinatorClient"/> from the app's services.</remarks>
    public static void Map(WebApplication app, string token, JobMetrics metrics, DashboardSessions sessions)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(sessions);
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (context, next) =>
        {
            var bearer = Authorized(context.Request.Headers.Authorization.ToString(), expected);
            var reads = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
            if (IsOpen(context.Request.Path) || bearer || (reads && sessions.IsValid(context.Request.Cookies[DashboardSessions.CookieName])))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"sora\"";
            await context.Response.WriteAsJsonAsync(new
            {
                error = reads
                    ? "missing or wrong bearer token (the job token: see `sora launch`'s output or .sora/token), or the dashboard session expired (`sora dashboard` prints a new link)"
                    : "this needs the bearer token (the job token: see `sora launch`'s output or .sora/token); a dashboard session only reads",
            }).ConfigureAwait(false);
        });

        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/", () => Asset(""));
        app.MapGet("/dashboard/{**path}", (string path) => Asset(path));
        app.MapGet("/login", (HttpContext context, string? code) =>
        {
            if (sessions.Redeem(code) is not { } session)
            {
                return Results.Content("<!doctype html><title>Sora</title><p>This dashboard link was used already or has expired. Run <code>sora dashboard</code> in the job's directory for a new one.</p>",
                    "text/html; charset=utf-8", statusCode: StatusCodes.Status401Unauthorized);
            }

            context.Response.Cookies.Append(DashboardSessions.CookieName, session, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
                MaxAge = DashboardSessions.SessionLifetime,
            });
            return Results.Redirect("/");
        });
        app.MapPost("/api/dashboard-link", () => Results.Json(new { url = sessions.IssueLink() }));

        app.MapMetrics("/metrics", metrics.Exporter.Registry);
        app.MapGet("/api/status", async (CoordinatorClient coordinator) => Results.Json(metrics.Status ?? await coordinator.StatusAsync(AskTimeout).ConfigureAwait(false)));
        app.MapGet("/api/job", () => metrics.Job is { } job ? Results.Json(job) : Results.Json(new { error = "the coordinator is starting" }, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/api/ranks", () => Results.Json(metrics.Ranks));
        app.MapGet("/api/history", (double? after) => Results.Json(metrics.History(after ?? 0)));
        app.MapGet("/api/checkpoints", () => Results.Json(metrics.Checkpoints));
        app.MapGet("/api/samples", () => Results.Json(metrics.Samples));
        app.MapGet("/api/samples/{index:int}/video", (int index) =>
            metrics.SampleData(index) is { } sample ? Results.Bytes(sample.Data, sample.ContentType, enableRangeProcessing: true) : Results.NotFound(new { error = $"no sample video for prompt {index} yet" }));
        app.MapGet("/api/events", (HttpContext context) => StreamEventsAsync(context, metrics));
        app.MapPost("/api/stop", async (CoordinatorClient coordinator) => Results.Json(await coordinator.StopAsync("sora stop (HTTP API)", AskTimeout).ConfigureAwait(false)));
    }

    private static bool IsOpen(PathString path) =>
        path == "/healthz" || path == "/" || path == "/login" || path.StartsWithSegments("/dashboard", StringComparison.Ordinal);

    private static IResult Asset(string path) =>
        DashboardAssets.Find(path) is { } asset ? Results.Bytes(asset.Content, asset.ContentType) : Results.NotFound();

    /// <summary>Server-sent events: <c>event: update</c> with the metrics' version after each publish, a comment every 15 s to keep proxies from closing the stream.</summary>
    private static async Task StreamEventsAsync(HttpContext context, JobMetrics metrics)
    {
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var cancellation = context.RequestAborted;
        var version = -1L;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                var current = metrics.Version;
                if (current != version)
                {
                    version = current;
                    var data = JsonSerializer.Serialize(new { version, step = metrics.Job?.Step ?? 0, state = metrics.Job?.State ?? "" }, s_json);
                    await response.WriteAsync($"event: update\ndata: {data}\n\n", cancellation).ConfigureAwait(false);
                }
                else
                {
                    await response.WriteAsync(": keep-alive " + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "\n\n", cancellation).ConfigureAwait(false);
                }

                await response.Body.FlushAsync(cancellation).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(TimeSpan.FromSeconds(15));
                try
                {
                    await metrics.WaitForChangeAsync(version, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    // Quiet for 15 s: a keep-alive comment next.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The browser went away.
        }
    }

    private static bool Authorized(string header, byte[] expected)
    {
        var given = Encoding.UTF8.GetBytes(header);
        return given.Length == expected.Length && CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
