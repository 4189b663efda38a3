using Sora.Torch.Autograd;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Autograd;

public class GradModeTests
{
    [Fact]
    public void NoGrad_stops_recording_until_disposed()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        GradMode.IsEnabled.Should().BeTrue();

        using (Tensor.NoGrad())
        {
            GradMode.IsEnabled.Should().BeFalse();
            var y = x * 2;
            y.RequiresGrad.Should().BeFalse();
            y.IsLeaf.Should().BeTrue();
        }

        GradMode.IsEnabled.Should().BeTrue();
        (x * 2).RequiresGrad.Should().BeTrue();
    }

    [Fact]
    public void Modes_nest_and_each_restores_the_one_it_replaced()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1], 1).RequiresGrad_();
        using (Tensor.NoGrad())
        {
            using (GradMode.Enable())
            {
                GradMode.IsEnabled.Should().BeTrue();
                (x * 2).RequiresGrad.Should().BeTrue();
                using (Tensor.NoGrad())
                {
                    (x * 2).RequiresGrad.Should().BeFalse();
                }

                GradMode.IsEnabled.Should().BeTrue();
            }

            GradMode.IsEnabled.Should().BeFalse();
        }

        GradMode.IsEnabled.Should().BeTrue();
    }

    [Fact]
    public void Disposing_a_mode_twice_restores_only_once()
    {
        var outer = Tensor.NoGrad();
        var inner = GradMode.Enable();
        inner.Dispose();
        inner.Dispose();
        GradMode.IsEnabled.Should().BeFalse("the second dispose must not re-apply anything");
        outer.Dispose();
        GradMode.IsEnabled.Should().BeTrue();
    }

    [Fact]
    public void The_mode_belongs_to_the_thread_that_set_it()
    {
        using var noGrad = Tensor.NoGrad();
        var enabledElsewhere = false;
        var thread = new Thread(() => enabledElsewhere = GradMode.IsEnabled);
        thread.Start();
        thread.Join();
        enabledElsewhere.Should().BeTrue();
        GradMode.IsEnabled.Should().BeFalse();
    }
}
