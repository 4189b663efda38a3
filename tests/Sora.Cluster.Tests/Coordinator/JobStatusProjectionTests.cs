using Akka.Actor;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Metrics.Job;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>What the API and <c>sora status</c> show, projected from the coordinator's state without an actor.</summary>
public sealed class JobStatusProjectionTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_status_shows_each_rank_as_reported_exited_or_starting_and_each_node_with_its_last_message()
    {
        var key = JobKey.FromToken("token");
        var agents = new AgentRegistry(key, "1.0");
        foreach (var (node, host) in new[] { ("a", "10.0.0.2"), ("b", "10.0.0.3") })
        {
            var registration = key.Registration(node, host, 2, 2, "1.0");
            agents.Register(registration, CreateTestProbe().Ref, new Address("akka.tcp", "sora", host, 1), "s-" + node, T0);
            agents.Open(key.Session(SessionSide.Agent, node, registration.Nonce, "s-" + node).Seal(new AgentHeartbeat(node, 0, [])), T0);
        }

        var round = new Round(3, new RoundPlan([new CandidateNode("a", 2, 0)], [("a", 0), ("a", 1)]));
        round.Start(T0, 40, "dit");
        round.Record(new WorkerReport(0, 100, "running", "dit", 44, 100, 0.5, 0.25, 0.2, 1 << 20) { Metrics = new RankMetrics { Step = 44 } });
        round.Record(new WorkerExited("a", 3, 1, 137, false, "", ""));
        var budget = new RestartBudget(3);
        budget.TrySpend(new RestartRecord(2, T0, "rank 1 failed", "worker-exit"));

        var view = new CoordinatorView("job", JobStates.Running, "round 3 resumed from step 40", T0, agents, round, 2, budget, new CommittedCheckpoint(40, 3, null), "store");
        var status = JobStatusProjection.Status(view, T0 + TimeSpan.FromSeconds(2));

        status.Round.Should().Be(3);
        status.WorldSize.Should().Be(2);
        status.Ranks.Select(r => r.State).Should().Equal("running", "exited (signal 9 (SIGKILL))");
        status.Ranks[0].Step.Should().Be(44);
        status.Ranks[0].HeartbeatAgeSeconds.Should().Be(2);
        status.Nodes.Select(n => (n.Node, n.InRound)).Should().Equal(("a", true), ("b", false));
        status.Restarts.Should().ContainSingle();
        status.RestartsLeft.Should().Be(2);
        status.LastCheckpoint!.Step.Should().Be(40);
        JobStatusProjection.Reports(round).Select(r => r.Rank).Should().Equal([0], "only ranks that reported metrics");

        var between = JobStatusProjection.Status(view with { Round = null, State = JobStates.Rendezvous }, T0);
        between.Round.Should().Be(2, "between rounds the last round's number shows");
        between.Ranks.Should().BeEmpty();
    }
}
