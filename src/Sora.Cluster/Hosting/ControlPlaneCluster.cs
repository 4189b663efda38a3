using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Hosting;

/// <summary>
/// The Akka cluster every control-plane process joins: remoting bound to exactly the address it is given, the
/// coordinator as the seed, Akka's phi-accrual failure detector tuned to flag a silent node within a few
/// seconds, and the Split Brain Resolver's keep-oldest strategy restricted to the coordinator role, so that on a
/// partition the side holding the coordinator stays and the other side downs itself (and its agents stop their
/// workers). The resolver's "down all when unstable" is off: an agent whose reachability keeps flapping must never make
/// the coordinator down itself and end the job. User messages between processes go through <see cref="ControlPlaneSerializer"/>
/// only (it takes the place of Akka's JSON serializer): nothing but the control plane's protocol can arrive. Akka's own
/// log lines for a closed peer connection are dropped (<see cref="TransportNoiseFilter"/>): the control plane reports
/// each loss itself.
/// </summary>
public static class ControlPlaneCluster
{
    /// <summary>Heartbeats between members.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>Silence tolerated before a member is flagged unreachable (detection takes about this plus a heartbeat or two).</summary>
    public static readonly TimeSpan AcceptableHeartbeatPause = TimeSpan.FromSeconds(3);

    /// <summary>How long reachability must be stable before the Split Brain Resolver downs the unreachable side.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The largest message between members: a heartbeat carrying every worker's metrics of a large node fits with room to
    /// spare. Sample videos never travel here: workers publish them to the job's store and send their names.
    /// </summary>
    public const int MaximumFrameBytes = 1_000_000;

    /// <summary>The Akka address of a node: <c>akka.tcp://sora@HOST:PORT</c>.</summary>
    public static string Address(string host, int port) => $"akka.tcp://{ClusterRoles.SystemName}@{host}:{port}";

    /// <summary>Configures remoting and clustering on <paramref name="builder"/>.</summary>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="bindHost">The address remoting binds (only this one).</param>
    /// <param name="port">The port (0: any free one).</param>
    /// <param name="publicHost">The address other members reach this one at.</param>
    /// <param name="roles">This member's roles.</param>
    /// <param name="seed">The coordinator's address (<see cref="Address"/>).</param>
    public static AkkaConfigurationBuilder WithControlPlane(this AkkaConfigurationBuilder builder, string bindHost, int port, string publicHost, string[] roles, string seed)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder
            .AddHocon(
                $$"""
                akka.loglevel = WARNING
                akka.stdout-loglevel = WARNING
                akka.log-dead-letters = off
                akka.log-dead-letters-during-shutdown = off
                akka.remote.log-remote-lifecycle-events = off
                akka.cluster.log-info = off
                akka.cluster.split-brain-resolver.stable-after = {{(int)StableAfter.TotalMilliseconds}}ms
                akka.cluster.split-brain-resolver.down-all-when-unstable = off
                akka.cluster.down-removal-margin = 1s
                akka.cluster.retry-unsuccessful-join-after = 2s
                akka.cluster.seed-node-timeout = 2s
                akka.remote.dot-netty.tcp.maximum-frame-size = {{MaximumFrameBytes}}b
                akka.remote.dot-netty.tcp.send-buffer-size = {{MaximumFrameBytes * 2}}b
                akka.remote.dot-netty.tcp.receive-buffer-size = {{MaximumFrameBytes * 2}}b
                akka.coordinated-shutdown.exit-clr = off
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                {{ControlPlaneSerializer.Hocon}}
                """,
                HoconAddMode.Prepend)
            .AddSetup(TransportNoiseFilter.Setup)
            .WithRemoting(new RemoteOptions { HostName = bindHost, Port = port, PublicHostName = publicHost })
            .WithClustering(new ClusterOptions
            {
                Roles = roles,
                SeedNodes = [seed],
                SplitBrainResolver = new KeepOldestOption { Role = ClusterRoles.Coordinator, DownIfAlone = false },
                FailureDetector = new PhiAccrualFailureDetectorOptions
                {
                    HeartbeatInterval = HeartbeatInterval,
                    AcceptableHeartbeatPause = AcceptableHeartbeatPause,
                    Threshold = 8,
                },
            });
        return builder;
    }
}
