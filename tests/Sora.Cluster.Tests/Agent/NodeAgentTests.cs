using Akka.Actor;
using Akka.TestKit;
using Sora.Cluster.Agent;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;

namespace Sora.Cluster.Tests.Agent;

/// <summary>
/// The node agent with probes for the coordinator (one for the path it registers at, one per incarnation that accepts
/// it, sealing as the coordinator does) and real worker processes (a shell, not <c>sora train</c>): registering again,
/// worker failures of every kind, the checks it makes before it starts a round's workers, and what it takes from the job.
/// </summary>
public sealed class NodeAgentTests : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const string Token = "job-token";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private readonly JobKey _key = JobKey.FromToken(Token);
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-agent-").FullName;
    private readonly List<string> _events = [];
    private readonly AgentOutcome _outcome = new();

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void An_agent_registers_again_when_the_coordinator_that_accepted_it_stops()
    {
        var (coordinator, _) = StartAgent();
        var first = CreateTestProbe();
        coordinator.Accept(first);
        first.ExpectMsg<SealedMessage>(Limit).Type.Should().Be(nameof(AgentHeartbeat), "its first sealed message takes it in");

        // The coordinator actor failed and a new incarnation took its place at the same path.
        Sys.Stop(first.Ref);
        coordinator.Registry.FishForMessage<RegisterAgent>(_ => true, Limit).Node.Should().Be("n1");
    }

    [Theory]
    [InlineData("log")]
    [InlineData("program")]
    public void A_worker_whose_actor_fails_is_reported_exited_at_once(string broken)
    {
        // Its log cannot be created, or its program does not exist: the worker's actor fails while it starts.
        var (coordinator, agent) = StartAgent(broken == "program" ? ["/nonexistent/sora"] : null);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);
        var output = broken == "log" ? "/proc/sora-cannot-write-here/run" : Path.Combine(_directory, "run");
        agent.Tell(channel.Seal(Round(JobYaml(output))), incarnation.Ref);

        // Well under the hang watchdog's 120 s: a hang guard, not a speed check.
        var exited = CoordinatorProbe.Fish<WorkerExited>(incarnation, channel, Limit);
        exited.Rank.Should().Be(0);
        exited.Round.Should().Be(1);
        exited.Node.Should().Be("n1");
        exited.ExitCode.Should().Be(WorkerProcess.NotStartedExitCode);
        exited.LogTail.Should().Contain("rank 0 could not be started");
    }

    [Fact]
    public void A_worker_whose_actor_is_stopped_while_its_process_runs_is_killed_and_reported()
    {
        var (coordinator, agent) = StartAgent(["/bin/sh", "-c", "echo started; sleep 60", "sh"]);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);
        agent.Tell(channel.Seal(Round(JobYaml(Path.Combine(_directory, "run")))), incarnation.Ref);
        var report = CoordinatorProbe.Fish<AgentHeartbeat>(incarnation, channel, Limit, h => h.Workers.Any(w => w.Pid > 0));
        var pid = report.Workers[0].Pid;

        // A new round on this node stops the old round's worker actors: their processes go with them, and their exits are reported.
        agent.Tell(channel.Seal(Round(JobYaml(Path.Combine(_directory, "run")), round: 2)), incarnation.Ref);
        var exited = CoordinatorProbe.Fish<WorkerExited>(incarnation, channel, Limit, e => e.Round == 1);
        exited.ExitCode.Should().BeOneOf(WorkerProcess.KilledExitCode, 128 + 15);
        var log = Path.Combine(_directory, "run", "logs", "n1", "round-1", "rank-0.log");
        AwaitCondition(() => File.Exists(log) && File.ReadAllText(log).Contains("started", StringComparison.Ordinal), Limit);
        AwaitCondition(() => !File.Exists($"/proc/{pid}/cmdline") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z", StringComparison.Ordinal), Limit);
    }

    [Fact]
    public void A_local_dataset_that_does_not_exist_is_refused_before_any_worker_starts()
    {
        var started = Path.Combine(_directory, "started");
        var (coordinator, agent) = StartAgent(["/bin/sh", "-c", $"touch '{started}'; sleep 30", "sh"]);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);
        var missing = Path.Combine(_directory, "no-such-dataset");
        agent.Tell(channel.Seal(Round(JobYaml(Path.Combine(_directory, "run"), missing))), incarnation.Ref);

        var refused = CoordinatorProbe.Fish<RoundRefused>(incarnation, channel, Limit);
        refused.Round.Should().Be(1);
        refused.Reason.Should().Contain("node 'n1'").And.Contain(missing).And.Contain("does not exist on this node").And.Contain("data.generate");
        File.Exists(started).Should().BeFalse("no worker starts for a round whose data is not there");
    }

    [Theory]
    [InlineData("another nonce")]
    [InlineData(null)]
    public void A_node_that_does_not_see_the_round_marker_starts_nothing_and_says_how_to_fix_it(string? found)
    {
        var started = Path.Combine(_directory, "started");
        var (coordinator, agent) = StartAgent(["/bin/sh", "-c", $"touch '{started}'; sleep 30", "sh"]);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);

        // This node's view of the store: the coordinator's marker is missing, or another one is there (a private disk at the same path).
        var marker = Path.Combine(_directory, "store", "control", "round-1.nonce");
        if (found is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            File.WriteAllText(marker, found);
        }

        agent.Tell(channel.Seal(Round(JobYaml(Path.Combine(_directory, "run")), marker: new StoreMarker(marker, JobKey.NewNonce()))), incarnation.Ref);

        var refused = CoordinatorProbe.Fish<RoundRefused>(incarnation, channel, Limit);
        refused.Reason.Should().Contain("node 'n1' does not share the job's store").And.Contain(marker).And.Contain("checkpoint.store").And.Contain("az://").And.Contain("shared volume");
        File.Exists(started).Should().BeFalse("no worker starts before the node proved it shares the store");
    }

    [Fact]
    public void A_node_that_reads_the_round_marker_starts_its_workers()
    {
        var started = Path.Combine(_directory, "started");
        var (coordinator, agent) = StartAgent(["/bin/sh", "-c", $"touch '{started}'; sleep 30", "sh"]);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);
        var marker = Path.Combine(_directory, "store", "control", "round-1.nonce");
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        var nonce = JobKey.NewNonce();
        File.WriteAllText(marker, nonce);

        agent.Tell(channel.Seal(Round(JobYaml(Path.Combine(_directory, "run")), marker: new StoreMarker(marker, nonce))), incarnation.Ref);
        AwaitCondition(() => File.Exists(started), Limit);
        AwaitCondition(() => Events().Any(e => e == "round 1: started rank(s) 0 of 1 (1 thread(s) each)"), Limit, "said once its worker's process runs");
    }

    [Theory]
    [InlineData(null, "3")]
    [InlineData(7.0, "7")]
    public void The_coordinator_timeout_is_the_agents_option_else_the_jobs(double? option, string seconds)
    {
        var (coordinator, _) = StartAgent(coordinatorTimeout: option is { } o ? TimeSpan.FromSeconds(o) : null);
        coordinator.Accept(CreateTestProbe(), coordinatorTimeoutSeconds: 3);
        AwaitCondition(() => Events().Any(e => e.Contains("joined job 'job'", StringComparison.Ordinal)), Limit);
        Events().Should().Contain(e => e.Contains($"its workers stop {seconds} s after it loses the coordinator", StringComparison.Ordinal));
    }

    [Fact]
    public void Messages_the_coordinator_did_not_seal_in_this_session_are_dropped_and_replays_too()
    {
        var started = Path.Combine(_directory, "started");
        var (coordinator, agent) = StartAgent(["/bin/sh", "-c", $"echo x >> '{started}'; sleep 30", "sh"]);
        var incarnation = CreateTestProbe();
        var channel = coordinator.Accept(incarnation);
        var start = Round(JobYaml(Path.Combine(_directory, "run")));

        // Unsealed, and sealed with another key in this session's name: neither starts a worker.
        agent.Tell(start, incarnation.Ref);
        agent.Tell(JobKey.FromToken("guess").Session(SessionSide.Coordinator, "n1", JobKey.NewNonce(), channel.Session).Seal(start), incarnation.Ref);

        // The genuine one does; the same sealed message again is a replay.
        var genuine = channel.Seal(start);
        agent.Tell(genuine, incarnation.Ref);
        AwaitCondition(() => File.Exists(started), Limit);
        agent.Tell(genuine, incarnation.Ref);
        AwaitCondition(() => Events().Count(e => e.Contains("dropped a message that did not authenticate", StringComparison.Ordinal)) >= 2, Limit);
        File.ReadAllLines(started).Should().ContainSingle("only the genuine start ran a worker");

        agent.Tell(channel.Seal(new JobEnded(false, "the end")), incarnation.Ref);
        AwaitCondition(() => _outcome.IsCompleted, Limit);
    }

    private (CoordinatorProbe Coordinator, IActorRef Agent) StartAgent(IReadOnlyList<string>? workerCommand = null, TimeSpan? coordinatorTimeout = null)
    {
        var registry = CreateTestProbe();
        var options = new AgentOptions("n1", "127.0.0.1", 1, 1, _key, "1.0", registry.Ref.Path.ToString(),
            workerCommand ?? ["/bin/sh", "-c", "sleep 30", "sh"], Path.Combine(_directory, "work"), coordinatorTimeout, TimeSpan.FromSeconds(1));
        var agent = Sys.ActorOf(NodeAgent.Props(options, _outcome, new ListEvents(_events)), NodeAgent.Name);
        return (new CoordinatorProbe(registry, _key), agent);
    }

    private static StartRound Round(string yaml, long round = 1, StoreMarker? marker = null) => new(round, [new RankAssignment(0, 0)], 1, "127.0.0.1", 1, yaml, "job", [], marker);

    private string JobYaml(string output, string? dataset = null)
    {
        var yaml = File.ReadAllText(SoraProcess.WriteTinyJob(_directory, ditSteps: 4, extraYaml: $"output: {output}\n"));
        return dataset is null ? yaml : yaml
            .Replace("  source: synthetic\n", $"  source: parquet\n  path: {dataset}\n", StringComparison.Ordinal)
            .Replace("  sizes: [[32, 32]]\n  lengths: [8]\n", "", StringComparison.Ordinal);
    }

    private List<string> Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    private sealed class ListEvents(List<string> events) : IJobEvents
    {
        public void Report(string message)
        {
            lock (events)
            {
                events.Add(message);
            }
        }
    }
}
