using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;

namespace Sora.Model.Tests.Flow;

public class RectifiedFlowTests
{
    [Fact]
    public void Interpolation_runs_on_the_straight_line_from_data_to_noise()
    {
        using var scope = Tensor.NewDisposeScope();
        var x0 = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        var noise = Tensor.FromArray(new float[] { 5, 6, 7, 8 }, 2, 2);
        var t = Tensor.FromArray(new float[] { 0.25f, 1f });
        RectifiedFlow.Interpolate(x0, noise, t).ToArray<float>().Should().Equal(2f, 3f, 7f, 8f);
        RectifiedFlow.Interpolate(x0, noise, Tensor.Zeros([2])).Equal(x0).Should().BeTrue();
        RectifiedFlow.Velocity(x0, noise).ToArray<float>().Should().Equal(4, 4, 4, 4);
    }

    [Fact]
    public void The_time_shift_moves_t_towards_noise_for_more_tokens()
    {
        var flow = new RectifiedFlow(new FlowOptions { ShiftBaseTokens = 256, MaxShift = 3 });
        flow.ShiftFor(256).Should().Be(1);
        flow.ShiftFor(1024).Should().Be(2);
        flow.ShiftFor(1 << 20).Should().Be(3, "the shift is capped");
        RectifiedFlow.Shift(0.5, 3).Should().Be(0.75);
        RectifiedFlow.Shift(0.0, 3).Should().Be(0);
        RectifiedFlow.Shift(1.0, 3).Should().Be(1);
        new RectifiedFlow(new FlowOptions { ResolutionShift = false }).ShiftFor(4096).Should().Be(1);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Frame_correlated_noise_is_standard_normal_per_element_with_the_asked_correlation_between_frames(double rho)
    {
        using var scope = Tensor.NewDisposeScope();
        var flow = new RectifiedFlow(new FlowOptions { FrameNoiseCorrelation = rho });
        var noise = flow.SampleNoise([64, 4, 3, 16, 16]);
        noise.Shape.Should().Equal(64, 4, 3, 16, 16);
        noise.Mean().ItemDouble().Should().BeApproximately(0, 0.02);
        noise.Var().ItemDouble().Should().BeApproximately(1, 0.03);
        var first = noise.Select(2, 0).Reshape(-1);
        var last = noise.Select(2, 2).Reshape(-1);
        first.Mul(last).Mean().ItemDouble().Should().BeApproximately(rho, 0.03, "frames share ρ of their variance");
        var otherSample = noise.Narrow(0, 1, 63).Select(2, 2).Reshape(-1);
        first.Narrow(0, 0, otherSample.Size(0)).Mul(otherSample).Mean().ItemDouble().Should().BeApproximately(0, 0.03, "samples stay independent");
        flow.SampleNoise([8, 4]).Shape.Should().Equal(8, 4);
    }

    [Fact]
    public void A_frame_noise_correlation_of_one_or_more_is_refused()
    {
        var act = () => new RectifiedFlow(new FlowOptions { FrameNoiseCorrelation = 1 });
        act.Should().Throw<ArgumentException>().WithMessage("flow.frame_noise_correlation*");
    }

    [Fact]
    public void Timesteps_are_logit_normal()
    {
        using var scope = Tensor.NewDisposeScope();
        var flow = new RectifiedFlow(new FlowOptions { LogitMean = 1, LogitStd = 0.5, ResolutionShift = false });
        var t = flow.SampleTimesteps(20000, tokens: 64);
        t.Amin().ItemDouble().Should().BeGreaterThan(0);
        t.Amax().ItemDouble().Should().BeLessThan(1);
        var logits = t.Div(t.RSub(1)).Log();
        logits.Mean().ItemDouble().Should().BeApproximately(1, 0.02);
        logits.Var().ItemDouble().Should().BeApproximately(0.25, 0.02);
    }

    [Fact]
    public void The_loss_is_the_mean_squared_velocity_error_and_skips_clean_frames()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(8);
        using var model = new VideoDiT(new DiTConfig { Hidden = 32, Depth = 1, Heads = 2, TextDim = 16, TimestepFrequencies = 32 }, 8);
        var flow = new RectifiedFlow();

        // A fresh model predicts 0, so the loss is mean((ε − x0)²), which the test picks frame by frame.
        var x0 = Tensor.Zeros([1, 4, 2, 2, 2]);
        var noise = Tensor.Cat([Tensor.Full([1, 4, 1, 2, 2], 1.0), Tensor.Full([1, 4, 1, 2, 2], 3.0)], 2);
        var tokens = Tensor.Zeros([1, 16], ScalarType.Int64);
        var t = Tensor.Full([1], 0.5);
        flow.Loss(model, x0, tokens, timesteps: t, noise: noise).Loss.ItemDouble().Should().BeApproximately((1 + 9) / 2.0, 1e-6);

        var firstClean = Tensor.FromArray(new[] { true, false }).Reshape(1, 2);
        flow.Loss(model, x0, tokens, cleanFrames: firstClean, timesteps: t, noise: noise).Loss.ItemDouble()
            .Should().BeApproximately(9, 1e-6, "only the second frame counts");
    }

    [Fact]
    public void Frame_masks_never_hide_every_frame_and_spare_images()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(9);
        var masks = FrameMasking.Sample(500, 4, probability: 1).ToArray<bool>();
        for (var i = 0; i < 500; i++)
        {
            var row = masks.Skip(i * 4).Take(4).ToArray();
            row.Count(f => f).Should().BeInRange(1, 3);
        }

        FrameMasking.Sample(50, 1, probability: 1).ToArray<bool>().Should().OnlyContain(f => !f);
        FrameMasking.Sample(50, 4, probability: 0).ToArray<bool>().Should().OnlyContain(f => !f);
        var some = FrameMasking.Sample(2000, 4, probability: 0.25).ToArray<bool>();
        var masked = Enumerable.Range(0, 2000).Count(i => some.Skip(i * 4).Take(4).Any(f => f));
        masked.Should().BeInRange(400, 600);
    }
}
