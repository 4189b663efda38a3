using Sora.Metrics.Charts;

namespace Sora.Metrics.Tests.Charts;

public class AxisScaleTests
{
    [Fact]
    public void Linear_ticks_fall_on_round_steps_that_cover_the_data()
    {
        var axis = AxisScale.Linear(0.03, 0.97);
        axis.Ticks.Should().Equal(0, 0.2, 0.4, 0.6000000000000001, 0.8, 1);
        axis.Labels.Should().Equal("0", "0.2", "0.4", "0.6", "0.8", "1.0");
        (axis.Min, axis.Max).Should().Be((0.0, 1.0));

        AxisScale.Linear(-7, 993).Labels.Should().Equal("-200", "0", "200", "400", "600", "800", "1000");
    }

    [Fact]
    public void A_flat_range_is_widened()
    {
        var axis = AxisScale.Linear(3, 3);
        axis.Min.Should().BeLessThan(3);
        axis.Max.Should().BeGreaterThan(3);
        AxisScale.Linear(0, 0).Ticks.Should().Contain(0);
    }

    [Fact]
    public void Tiny_and_huge_values_use_exponent_labels()
    {
        AxisScale.Linear(1e-5, 5e-5).Labels.Should().Contain("1e-5").And.Contain("5e-5");
        AxisScale.Format(2.5e7, 0).Should().Be("2.5e7");
        AxisScale.Format(-0.25, 2).Should().Be("-0.25");
    }

    [Fact]
    public void Log_ticks_are_decades_and_values_map_evenly_per_decade()
    {
        var axis = AxisScale.Log10(0.0013, 870);
        axis.IsLog.Should().BeTrue();
        axis.Labels.Should().Equal("0.001", "0.01", "0.1", "1", "10", "100", "1000");
        axis.Fraction(0.001).Should().BeApproximately(0, 1e-12);
        axis.Fraction(1).Should().BeApproximately(0.5, 1e-12);
        axis.Fraction(1000).Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Log_axes_over_few_decades_add_2_and_5_ticks_and_over_many_skip_decades()
    {
        AxisScale.Log10(1.5, 40).Labels.Should().Equal("1", "2", "5", "10", "20", "50", "100");
        var wide = AxisScale.Log10(1e-12, 1e12);
        wide.Ticks.Count.Should().BeLessThanOrEqualTo(13);
        wide.Labels.Should().Contain("1e-12").And.Contain("1e12");
        AxisScale.Log10(5, 5).Labels.Should().Equal("1", "2", "5", "10");
    }

    [Fact]
    public void A_log_axis_needs_positive_values()
    {
        ((Func<AxisScale>)(() => AxisScale.Log10(0, 10))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*0 < min*");
    }
}
