using Sora.Cluster.Coordinator;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

public sealed class RoundResumeTests
{
    private static readonly CommittedCheckpoint At20 = new(20, 1, null);

    [Fact]
    public void Without_an_ask_every_round_resumes_from_the_last_commit_when_there_is_one()
    {
        RoundResume.For(null, firstRound: true, At20).Should().Be(new RoundResume("latest", 20, "resuming from checkpoint step 20"));
        RoundResume.For(null, firstRound: true, null).Should().Be(new RoundResume(null, 0, "from scratch"));
        RoundResume.For(null, firstRound: true, new CommittedCheckpoint(0, 4, null)).Argument.Should().BeNull("a fenced round without a commit is no checkpoint");
    }

    [Fact]
    public void An_ask_decides_only_the_first_round()
    {
        RoundResume.For("10", firstRound: true, At20).Should().Be(new RoundResume("10", 10, "resuming from checkpoint step 10 (as asked)"));
        RoundResume.For(JobSpec.StartFresh, firstRound: true, At20).Argument.Should().BeNull();
        RoundResume.For("latest", firstRound: true, At20).Argument.Should().Be("latest");
        RoundResume.For("10", firstRound: false, At20).Argument.Should().Be("latest", "a restarted round goes on from what its predecessor committed");
        RoundResume.For(JobSpec.StartFresh, firstRound: false, At20).Argument.Should().Be("latest");
    }

    [Fact]
    public void An_ask_that_is_not_a_step_is_an_error_naming_it() =>
        FluentActions.Invoking(() => RoundResume.For("yesterday", firstRound: true, null)).Should().Throw<ArgumentException>().WithMessage("*latest, a step or none (got 'yesterday')*");
}
