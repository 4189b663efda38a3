using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sora.Checkpoint.Stores;
using Sora.Cli.Launch;
using Sora.Cluster;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Hosting;
using Sora.Cluster.Protocol;
using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;

namespace Sora.Cli.Bench;

/// <summary>What <c>sora bench control-plane</c> measured.</summary>
/// <param name="Agents">Simulated agents (one rank each).</param>
/// <param name="Seconds">Length of each measured window.</param>
/// <param name="IdleCores">The coordinator process's CPU use before any agent joined (the baseline).</param>
/// <param name="LoadedCores">Its CPU use while every agent sent heartbeats at 1 Hz and the status was asked for every second.</param>
/// <param name="WorldSize">The round's world size (all agents were in it).</param>
/// <param name="MaxHeartbeatAgeSeconds">The oldest agent heartbeat the last status showed (under about 2 s: the coordinator kept up).</param>
internal sealed record ControlPlaneResult(int Agents, double Seconds, double IdleCores, double LoadedCores, int WorldSize, double MaxHeartbeatAgeSeconds);

/// <summary>
/// <c>sora bench control-plane</c>: the coordinator actor in this process, with a real checkpoint ledger and Akka
/// remoting, and N simulated agents in a child process (one cluster member of role agent hosting N agent actors)
/// that register, take their rank in one round of N nodes and send a heartbeat with one worker report every second,
/// carrying a full set of that rank's metrics (ten steps each, as a 100 ms step would). Reports the coordinator process's CPU in cores while idle and under that load.
/// </summary>
internal static class ControlPlaneBenchmark
{
    private const string Token = "bench-control-plane";

    public static ControlPlaneResult Run(int agents, TimeSpan window, IProgress<string> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var directory = Directory.CreateTempSubdirectory("sora-bench-control-plane-").FullName;
        var port = FreePort();
        var fault = new FaultPolicy(MaxRestarts: 0, MinNodes: agents, MaxNodes: agents, HangTimeout: TimeSpan.FromMinutes(10));
        var key = JobKey.FromToken(Token);
        var spec = new JobSpec("bench-control-plane", "name: bench-control-plane", [("train.batch_size", agents)], 1000, fault, [], key, ClusterJob.Version, "127.0.0.1", 1);
        var ledger = new StoreCheckpointLedger(new LocalDirectoryStore(directory), "dit/checkpoints");
        var metrics = new JobMetrics(JobCoordinator.InfoOf(spec, ledger, DateTimeOffset.UtcNow));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var seed = ControlPlaneCluster.Address("127.0.0.1", port);
        builder.Services.AddAkka(ClusterRoles.SystemName, (akka, _) => akka.WithControlPlane("127.0.0.1", port, "127.0.0.1", [ClusterRoles.Coordinator], seed)
            .WithActors((system, registry) => registry.Register<JobCoordinator>(system.ActorOf(JobCoordinator.Props(spec, ledger, new JobOutcome(), new SilentEvents(), metrics), JobCoordinator.Name))));
        using var host = builder.Build();
        host.Start();
        Process? simulator = null;
        try
        {
            var coordinator = new CoordinatorClient(host.Services.GetRequiredService<ActorRegistry>().Get<JobCoordinator>(), key);
            status.Report($"idle coordinator: measuring {window.TotalSeconds:F0} s");
            var idle = CoresOver(window, coordinator, metrics);

            simulator = StartSimulator(agents, port);
            status.Report($"waiting for {agents} simulated agents to join and their round to start");
            var clock = Stopwatch.StartNew();
            while (Ask(coordinator) is not { State: JobStates.Running } running || running.Ranks.Count(r => r.HeartbeatAgeSeconds < 5 && r.Stage.Length > 0) < agents)
            {
                if (simulator.HasExited || clock.Elapsed > TimeSpan.FromMinutes(3))
                {
                    var now = Ask(coordinator);
                    throw new InvalidOperationException($"the {agents} simulated agents did not all report within 3 min ({(simulator.HasExited ? $"the simulator exited {simulator.ExitCode}" : now.Message)}; {now.Nodes.Count} nodes in, {now.Ranks.Count(r => r.Stage.Length > 0)} ranks reporting, oldest heartbeat {now.Nodes.Select(n => n.HeartbeatAgeSeconds).DefaultIfEmpty(0).Max():F1} s)");
                }

                Thread.Sleep(500);
            }

            status.Report($"{agents} agents reporting at 1 Hz: measuring {window.TotalSeconds:F0} s");
            var loaded = CoresOver(window, coordinator, metrics);
            var last = Ask(coordinator);
            return new ControlPlaneResult(agents, window.TotalSeconds, idle, loaded, last.WorldSize, last.Nodes.Max(n => n.HeartbeatAgeSeconds));
        }
        finally
        {
            if (simulator is not null)
            {
                simulator.Kill(entireProcessTree: true);
                simulator.Dispose();
            }

            host.StopAsync().GetAwaiter().GetResult();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The child process's side: <paramref name="agents"/> agent actors in one cluster member, until killed.</summary>
    public static int Simulate(int agents, int coordinatorPort)
    {
        var seed = ControlPlaneCluster.Address("127.0.0.1", coordinatorPort);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAkka(ClusterRoles.SystemName, (akka, _) => akka.WithControlPlane("127.0.0.1", 0, "127.0.0.1", [ClusterRoles.Agent], seed)
            .WithActors((system, _) =>
            {
                var path = seed + "/user/" + JobCoordinator.Name;
                var key = JobKey.FromToken(Token);
                Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() =>
                {
                    for (var i = 0; i < agents; i++)
                    {
                        system.ActorOf(Props.Create(() => new SimulatedAgent(path, $"sim-{i:D5}", key)), $"sim-{i:D5}");
                    }
                });
            }));
        using var host = builder.Build();
        host.Run();
        return 0;
    }

    private static Process StartSimulator(int agents, int port)
    {
        var self = ClusterJob.Self();
        var info = new ProcessStartInfo(self[0]) { UseShellExecute = false, RedirectStandardOutput = false };
        foreach (var argument in self.Skip(1).Concat(["bench", "control-plane", "--simulate", agents.ToString(CultureInfo.InvariantCulture), "--coordinator-port", port.ToString(CultureInfo.InvariantCulture)]))
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("cannot start the agent simulator");
    }

    /// <summary>
    /// CPU cores this process used over <paramref name="window"/>, asking the coordinator for its status every second and
    /// reading what a dashboard and a Prometheus scrape read (the exposition, the job, the ranks, the history's tail).
    /// </summary>
    private static double CoresOver(TimeSpan window, CoordinatorClient coordinator, JobMetrics metrics)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var lastRead = 0.0;
        while (clock.Elapsed < window)
        {
            Ask(coordinator);
            using (var scrape = new MemoryStream())
            {
                metrics.Exporter.WriteAsync(scrape).GetAwaiter().GetResult();
            }

            _ = metrics.Job;
            _ = metrics.Ranks;
            var history = metrics.History(lastRead);
            lastRead = history.Count > 0 ? history[^1].Time : lastRead;
            Thread.Sleep(1000);
        }

        self.Refresh();
        return (self.TotalProcessorTime - cpu).TotalSeconds / clock.Elapsed.TotalSeconds;
    }

    private static JobStatus Ask(CoordinatorClient coordinator) => coordinator.StatusAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class SilentEvents : IJobEvents
    {
        public void Report(string message)
        {
        }
    }

    /// <summary>An agent without workers: registers, takes its rank and reports one worker every second, sealed in its session as a real agent does.</summary>
    private sealed class SimulatedAgent : ReceiveActor, IWithTimers
    {
        private readonly ActorSelection _coordinator;
        private readonly string _node;
        private readonly JobKey _key;
        private RegisterAgent? _registration;
        private SessionChannel? _channel;
        private IActorRef? _coordinatorRef;
        private StartRound? _round;
        private long _step;

        public SimulatedAgent(string coordinatorPath, string node, JobKey key)
        {
            _coordinator = Context.ActorSelection(coordinatorPath);
            _node = node;
            _key = key;
            Receive<string>(tick =>
            {
                if (tick == "register" && _channel is null)
                {
                    _registration = _key.Registration(_node, "127.0.0.1", 1, 1, ClusterJob.Version);
                    _coordinator.Tell(_registration);
                }
                else if (tick == "heartbeat" && _channel is not null && _round is not null)
                {
                    _step += 10;
                    var rank = _round.Workers[0].Rank;
                    long[] recent = [.. Enumerable.Range(0, 10).Select(i => _step - 9 + i)];
                    var metrics = new RankMetrics
                    {
                        Stage = "dit", Step = _step, TotalSteps = 1_000_000, StepsTotal = _step, SamplesTotal = _step * 32, TokensTotal = _step * 32 * 256, FlopsTotal = _step * 1e12,
                        Loss = 0.5, GradientNorm = 1, LearningRate = 1e-4, StepSeconds = 0.1, DataSeconds = 0.001, ComputeSeconds = 0.08, OptimizerSeconds = 0.01,
                        CommunicationSeconds = 0.01, BusySeconds = 0.09, FlopsPerSecond = 1e13, PeakFlopsPerSecond = 1e15, CheckpointSaveStep = 500, CheckpointSaveBytes = 1 << 30,
                        RecentSteps = recent, RecentStepSeconds = [.. recent.Select(_ => 0.1)], RecentLosses = [.. recent.Select(_ => 0.5)],
                    };
                    _coordinatorRef!.Tell(_channel.Seal(new AgentHeartbeat(_node, _round.Round, [new WorkerReport(rank, 1000 + rank, "running", "dit", _step, 1000, 0.2, 0.5, 1.0, 100_000_000) { Metrics = metrics }])));
                }
            });
            Receive<AgentAccepted>(accepted =>
            {
                if (_channel is null && accepted.AgentNonce == _registration?.Nonce && _key.Accept(accepted, _node) is { } channel)
                {
                    _channel = channel;
                    _coordinatorRef = Sender;
                    Sender.Tell(channel.Seal(new AgentHeartbeat(_node, 0, [])));
                }
            });
            Receive<SealedMessage>(message =>
            {
                if (_channel?.Open(message) is StartRound start)
                {
                    _round = start;
                }
            });
            Receive<object>(_ => { });
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            Timers.StartPeriodicTimer("register", "register", TimeSpan.Zero, TimeSpan.FromSeconds(2));

            // Spread the heartbeats over the second, as independent nodes would.
            Timers.StartPeriodicTimer("heartbeat", "heartbeat", TimeSpan.FromMilliseconds(Random.Shared.Next(1000)), TimeSpan.FromSeconds(1));
        }
    }
}
