using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sora.Cluster.Agent;
using Sora.Cluster.Api;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Hosting;

/// <summary>Where a coordinator listens.</summary>
/// <param name="BindHost">The address remoting, the store and the API bind (0.0.0.0 for all; remoting then needs <paramref name="PublicHost"/>).</param>
/// <param name="AkkaPort">Akka remoting's port.</param>
/// <param name="PublicHost">The address agents and workers reach the coordinator at.</param>
/// <param name="ApiHost">The HTTP API's address.</param>
/// <param name="ApiPort">Its port (0: any free one).</param>
public sealed record CoordinatorEndpoints(string BindHost, int AkkaPort, string PublicHost, string ApiHost, int ApiPort);

/// <summary>A coordinator that listens: its HTTP API's URL and a one-time dashboard link (absolute).</summary>
public sealed record CoordinatorStarted(string Url, string DashboardLink);

/// <summary>
/// Runs the control plane's processes: a coordinator (its actor, the HTTP API, in the same process as the c10d
/// store the caller hosts), optionally with this node's agent in the same actor system (<c>sora launch</c>'s
/// standalone mode), or an agent alone that rejoins the cluster whenever it was dropped from it.
/// </summary>
public static class ControlPlaneHost
{
    /// <summary>Runs a coordinator until the job ends; returns how it ended.</summary>
    /// <param name="endpoints">Where it listens.</param>
    /// <param name="spec">The job.</param>
    /// <param name="ledger">The checkpoint store's view.</param>
    /// <param name="token">The job token the API requires.</param>
    /// <param name="events">Where job events go.</param>
    /// <param name="localAgent">This node's agent in the same process (standalone), or null.</param>
    /// <param name="started">Called with the API's URL and a dashboard link once everything listens.</param>
    /// <param name="cancellation">Cancelled: a graceful stop of the job (checkpoint, then exit).</param>
    public static async Task<(bool Success, string Message)> RunCoordinatorAsync(CoordinatorEndpoints endpoints, JobSpec spec, ICheckpointLedger ledger, string token, IJobEvents events,
        AgentOptions? localAgent, Action<CoordinatorStarted> started, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(started);
        ArgumentNullException.ThrowIfNull(spec);
        var metrics = new JobMetrics(JobCoordinator.InfoOf(spec, ledger, DateTimeOffset.UtcNow), spec.StragglerRatio);
        var sessions = new DashboardSessions();
        var outcome = new JobOutcome();
        var agentOutcome = new AgentOutcome();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{endpoints.ApiHost}:{endpoints.ApiPort}");
        builder.Services.AddSingleton(services => new CoordinatorClient(services.GetRequiredService<ActorRegistry>().Get<JobCoordinator>(), spec.Key));
        var roles = localAgent is null ? new[] { ClusterRoles.Coordinator } : [ClusterRoles.Coordinator, ClusterRoles.Agent];
        var seed = ControlPlaneCluster.Address(endpoints.PublicHost, endpoints.AkkaPort);
        builder.Services.AddAkka(ClusterRoles.SystemName, (akka, _) =>
        {
            akka.WithControlPlane(endpoints.BindHost, endpoints.AkkaPort, endpoints.PublicHost, roles, seed)
                .WithActors((system, registry) =>
                {
                    var coordinator = system.ActorOf(JobCoordinator.Props(spec, ledger, outcome, events, metrics), JobCoordinator.Name);
                    registry.Register<JobCoordinator>(coordinator);
                    if (localAgent is not null)
                    {
                        system.ActorOf(NodeAgent.Props(localAgent with { CoordinatorPath = seed + "/user/" + JobCoordinator.Name }, agentOutcome, events), NodeAgent.Name);
                    }
                });
        });

        var app = builder.Build();
        await using (app.ConfigureAwait(false))
        {
            CoordinatorApi.Map(app, token, metrics, sessions);
            try
            {
                await app.StartAsync(cancellation).ConfigureAwait(false);
            }
            catch (IOException error)
            {
                throw new InvalidOperationException($"cannot listen on {endpoints.ApiHost}:{endpoints.ApiPort} for the HTTP API: {error.Message}", error);
            }

            var url = app.Urls.FirstOrDefault() ?? $"http://{endpoints.ApiHost}:{endpoints.ApiPort}";
            url = url.Replace("0.0.0.0", endpoints.PublicHost, StringComparison.Ordinal);
            started(new CoordinatorStarted(url, url + sessions.IssueLink()));
            var coordinator = app.Services.GetRequiredService<CoordinatorClient>();
            using var stop = cancellation.Register(() => coordinator.Stop("interrupted (Ctrl+C or SIGTERM)"));
            var system = app.Services.GetRequiredService<ActorSystem>();
            await Task.WhenAny(outcome.Task, system.WhenTerminated).ConfigureAwait(false);
            if (!outcome.Task.IsCompleted)
            {
                return (false, "the coordinator's actor system stopped before the job ended");
            }

            // Let JobEnded reach the agents, and a local agent stop its workers, before the system goes.
            await Task.WhenAny(localAgent is null ? Task.Delay(1000, CancellationToken.None) : agentOutcome.Task, Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None)).ConfigureAwait(false);
            await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return await outcome.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs an agent until its job ends or it is refused: joins the cluster at <paramref name="coordinatorHost"/>:<paramref name="coordinatorPort"/>,
    /// and whenever it is dropped from the cluster (the coordinator was lost, or this node was on the wrong side of a
    /// partition) joins again with a new actor system, for up to <paramref name="rejoinTimeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Message)> RunAgentAsync(AgentOptions options, string coordinatorHost, int coordinatorPort, string bindHost, IJobEvents events,
        TimeSpan rejoinTimeout, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(events);
        var seed = ControlPlaneCluster.Address(coordinatorHost, coordinatorPort);
        var outcome = new AgentOutcome();
        var lastMember = DateTime.UtcNow;
        while (true)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddAkka(ClusterRoles.SystemName, (akka, _) =>
            {
                akka.WithControlPlane(bindHost, 0, options.Host, [ClusterRoles.Agent], seed)
                    .WithActors((system, _) => system.ActorOf(NodeAgent.Props(options with { CoordinatorPath = seed + "/user/" + JobCoordinator.Name }, outcome, events), NodeAgent.Name));
            });
            using var host = builder.Build();
            await host.StartAsync(cancellation).ConfigureAwait(false);
            var system = host.Services.GetRequiredService<ActorSystem>();
            var cluster = Akka.Cluster.Cluster.Get(system);
            cluster.RegisterOnMemberUp(() => lastMember = DateTime.UtcNow);
            var cancelled = Task.Delay(Timeout.Infinite, cancellation);
            while (!outcome.IsCompleted && !system.WhenTerminated.IsCompleted && !cancellation.IsCancellationRequested)
            {
                await Task.WhenAny(outcome.Task, system.WhenTerminated, cancelled, Task.Delay(1000, CancellationToken.None)).ConfigureAwait(false);
                if (cluster.IsUp)
                {
                    lastMember = DateTime.UtcNow;
                }
                else if (DateTime.UtcNow - lastMember > rejoinTimeout)
                {
                    outcome.Complete(3, $"could not join the coordinator at {coordinatorHost}:{coordinatorPort} for {rejoinTimeout.TotalSeconds:F0} s");
                }
            }

            // Stopping the host stops the agent, whose children kill any worker still running.
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (outcome.IsCompleted)
            {
                return await outcome.Task.ConfigureAwait(false);
            }

            if (cancellation.IsCancellationRequested)
            {
                return (130, "interrupted");
            }

            events.Report($"node '{options.Node}' left the cluster; joining {coordinatorHost}:{coordinatorPort} again");
            await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
        }
    }
}
