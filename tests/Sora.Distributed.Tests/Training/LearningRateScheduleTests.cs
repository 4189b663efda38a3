using Sora.Distributed.Training;

namespace Sora.Distributed.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Warms_up_linearly_then_decays_on_a_cosine_to_the_minimum()
    {
        var schedule = new LearningRateSchedule(PeakRate: 1.0, WarmupSteps: 10, TotalSteps: 110, MinimumRate: 0.1);
        schedule.At(1).Should().BeApproximately(0.1, 1e-12);
        schedule.At(5).Should().BeApproximately(0.5, 1e-12);
        schedule.At(10).Should().BeApproximately(1.0, 1e-12);
        schedule.At(60).Should().BeApproximately(0.55, 1e-12, "halfway through the decay the cosine is at its midpoint");
        schedule.At(110).Should().BeApproximately(0.1, 1e-12);
        schedule.Invoking(s => s.At(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Invalid_settings_name_the_key()
    {
        new LearningRateSchedule(1, 20, 10).Invoking(s => s.Validate("dit")).Should().Throw<ArgumentException>().WithMessage("dit.warmup_steps*");
        new LearningRateSchedule(0, 0, 10).Invoking(s => s.Validate()).Should().Throw<ArgumentException>().WithMessage("train.lr*");
    }
}
