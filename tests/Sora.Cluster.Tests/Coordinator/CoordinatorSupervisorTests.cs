using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>The coordinator's supervision rule: a failed incarnation is stopped and a new one starts; messages meanwhile wait; a coordinator that keeps failing ends the job.</summary>
public sealed class CoordinatorSupervisorTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """))
{
    private readonly JobOutcome _outcome = new();
    private readonly List<string> _events = [];

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void A_failed_incarnation_is_replaced_by_a_new_one_that_gets_what_arrived_meanwhile()
    {
        var supervisor = Sys.ActorOf(CoordinatorSupervisor.Props(Props.Create(() => new Incarnation()), _outcome, new ListEvents(_events)));
        supervisor.Tell("who", TestActor);
        var first = ExpectMsg<IActorRef>();
        Watch(first);

        supervisor.Tell("fail", TestActor);
        ExpectTerminated(first);
        supervisor.Tell("who", TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Clock.Advance(CoordinatorSupervisor.RestartDelay);

        var second = ExpectMsg<IActorRef>();
        second.Should().NotBe(first, "a new incarnation is a new actor: its agents' death watch fires");
        _outcome.Task.IsCompleted.Should().BeFalse();
        _events.Should().ContainSingle(e => e.Contains("the coordinator failed (InvalidOperationException: asked to fail)"));
    }

    [Fact]
    public async Task A_coordinator_that_keeps_failing_ends_the_job_with_its_last_error()
    {
        var supervisor = Sys.ActorOf(CoordinatorSupervisor.Props(Props.Create(() => new Incarnation()), _outcome, new ListEvents(_events)));
        for (var failure = 0; failure <= CoordinatorSupervisor.MaxFailures; failure++)
        {
            supervisor.Tell("fail", TestActor);
            AwaitCondition(() => _events.Count > failure, TimeSpan.FromSeconds(10));
            Clock.Advance(CoordinatorSupervisor.RestartDelay);
        }

        var (success, message) = await _outcome.Task.WaitAsync(TimeSpan.FromSeconds(10));
        success.Should().BeFalse();
        message.Should().Contain($"failed {CoordinatorSupervisor.MaxFailures + 1} times").And.Contain("asked to fail");
    }

    private sealed class Incarnation : ReceiveActor
    {
        public Incarnation()
        {
            Receive<string>(m => m == "who", _ => Sender.Tell(Self));
            Receive<string>(m => m == "fail", _ => throw new InvalidOperationException("asked to fail"));
        }
    }

    private sealed class ListEvents(List<string> events) : Sora.Cluster.Coordinator.IJobEvents
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
