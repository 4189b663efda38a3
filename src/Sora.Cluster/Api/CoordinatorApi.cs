using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Api;

/// <summary>
/// The coordinator's HTTP API: <c>GET /healthz</c> (no token: for probes), <c>GET /api/status</c> and
/// <c>POST /api/stop</c>. Everything but <c>/healthz</c> needs <c>Authorization: Bearer &lt;job token&gt;</c>;
/// a request without it gets 401.
/// </summary>
public static class CoordinatorApi
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Adds the token check and the endpoints to <paramref name="app"/>.</summary>
    public static void Map(WebApplication app, string token)
    {
        ArgumentNullException.ThrowIfNull(app);
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == "/healthz" || Authorized(context.Request.Headers.Authorization.ToString(), expected))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"sora\"";
            await context.Response.WriteAsJsonAsync(new { error = "missing or wrong bearer token (the job token: see `sora launch`'s output or .sora/token)" }).ConfigureAwait(false);
        });

        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/api/status", async (IRequiredActor<JobCoordinator> coordinator) =>
            Results.Json(await coordinator.ActorRef.Ask<JobStatus>(GetStatus.Instance, AskTimeout).ConfigureAwait(false)));
        app.MapPost("/api/stop", async (IRequiredActor<JobCoordinator> coordinator) =>
            Results.Json(await coordinator.ActorRef.Ask<StopAccepted>(new StopJob("sora stop (HTTP API)"), AskTimeout).ConfigureAwait(false)));
    }

    private static bool Authorized(string header, byte[] expected)
    {
        var given = Encoding.UTF8.GetBytes(header);
        return given.Length == expected.Length && CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
