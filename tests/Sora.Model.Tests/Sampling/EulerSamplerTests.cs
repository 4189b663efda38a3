using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Sampling;
using Sora.Model.Tests.Dit;
using Sora.Torch;

namespace Sora.Model.Tests.Sampling;

public class EulerSamplerTests
{
    private static readonly DiTConfig Small = new() { Hidden = 32, Depth = 1, Heads = 2, TextDim = 16, MaxTextTokens = 4, TimestepFrequencies = 32 };

    [Fact]
    public void The_time_grid_runs_from_noise_to_data_on_the_shifted_schedule()
    {
        var sampler = new EulerSampler(new RectifiedFlow(new FlowOptions { ShiftBaseTokens = 64 }), new SamplingOptions { Steps = 4 });
        var grid = sampler.TimeGrid(tokens: 256);
        grid.Should().HaveCount(5);
        grid[0].Should().Be(1);
        grid[^1].Should().Be(0);
        grid.Should().BeInDescendingOrder();
        grid[2].Should().BeApproximately(RectifiedFlow.Shift(0.5, 2), 1e-12);
    }

    [Fact]
    public void A_model_that_predicts_zero_velocity_returns_the_starting_noise()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = new VideoDiT(Small, 8);
        var noise = Tensor.Randn([2, 4, 2, 4, 4]);
        var sampler = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 3, GuidanceScale = 4 });
        sampler.Sample(model, noise.Shape, Tensor.Zeros([2, 4], ScalarType.Int64), noise: noise).Equal(noise).Should().BeTrue();
    }

    [Fact]
    public void Conditioning_frames_stay_fixed_and_sampling_is_reproducible()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = PerturbedModel(seed: 10);
        var given = Tensor.Randn([1, 4, 3, 4, 4]);
        var captions = Caption();
        var sampler = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 4, GuidanceScale = 3 });
        var noise = Tensor.Randn(given.Shape);

        var imageToVideo = sampler.Sample(model, given.Shape, captions, ConditioningFrames.Prefix(given, 1), noise);
        imageToVideo.Narrow(2, 0, 1).Equal(given.Narrow(2, 0, 1)).Should().BeTrue();
        imageToVideo.Narrow(2, 1, 2).AllClose(given.Narrow(2, 1, 2), atol: 1e-3).Should().BeFalse();

        var backward = sampler.Sample(model, given.Shape, captions, ConditioningFrames.Suffix(given, 2), noise);
        backward.Narrow(2, 1, 2).Equal(given.Narrow(2, 1, 2)).Should().BeTrue();

        sampler.Sample(model, given.Shape, captions, ConditioningFrames.Prefix(given, 1), noise).Equal(imageToVideo).Should().BeTrue();

        var unguided = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 4, GuidanceScale = 1 });
        unguided.Sample(model, given.Shape, captions, noise: noise).AllClose(sampler.Sample(model, given.Shape, captions, noise: noise)).Should().BeFalse();
    }

    [Fact]
    public void An_edit_starts_at_its_strength_and_runs_only_the_steps_below_it()
    {
        var sampler = new EulerSampler(new RectifiedFlow(new FlowOptions { ResolutionShift = false }), new SamplingOptions { Steps = 10 });
        sampler.TimeGrid(tokens: 64, start: 1).Should().Equal(sampler.TimeGrid(tokens: 64));
        var grid = sampler.TimeGrid(tokens: 64, start: 0.55);
        grid.Should().HaveCount(7, "from 0.55, the steps of the 10-step grid below it: 0.5, 0.4, ..., 0");
        grid[0].Should().Be(0.55);
        grid[1..].Should().Equal(sampler.TimeGrid(tokens: 64)[5..]);
        var outside = () => sampler.TimeGrid(64, start: 0);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*(0, 1] (got 0)*");
    }

    [Fact]
    public void An_edit_noises_the_given_latent_to_its_strength_and_integrates_from_there_to_zero()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = new VideoDiT(Small, 8);
        model.Eval();
        // A constant velocity v: Euler integration from time s to 0 moves x_s by −s·v, whatever the steps.
        using (Tensor.NoGrad())
        {
            model.Final.Projection.Bias!.Fill_(0.25);
        }

        var latent = Tensor.Randn([2, 4, 2, 4, 4]);
        var noise = Tensor.Randn(latent.Shape);
        var captions = Tensor.Zeros([2, 4], ScalarType.Int64);
        var sampler = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 8, GuidanceScale = 3 });

        var edited = sampler.Edit(model, latent, captions, 0.3, noise);

        var noised = latent.Mul(0.7).Add(noise.Mul(0.3));
        edited.AllClose(noised.Sub(0.3 * 0.25), atol: 1e-5).Should().BeTrue();
        sampler.Edit(model, latent, captions, 1, noise).AllClose(sampler.Sample(model, latent.Shape, captions, noise: noise), atol: 1e-5)
            .Should().BeTrue("strength 1 is sampling from pure noise");
    }

    [Fact]
    public void A_loop_ends_on_its_first_latent_frame_and_ties_it_at_every_step()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = PerturbedModel(seed: 11);
        var noise = Tensor.Randn([1, 4, 3, 4, 4]);
        var captions = Caption();
        var sampler = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 4, GuidanceScale = 2 });

        var loop = sampler.Sample(model, noise.Shape, captions, noise: noise, loop: true);
        var plain = sampler.Sample(model, noise.Shape, captions, noise: noise);

        loop.Narrow(2, 2, 1).Equal(loop.Narrow(2, 0, 1)).Should().BeTrue();
        plain.Narrow(2, 2, 1).AllClose(plain.Narrow(2, 0, 1), atol: 1e-3).Should().BeFalse();
        loop.Narrow(2, 0, 1).AllClose(plain.Narrow(2, 0, 1), atol: 1e-6).Should().BeFalse("the tied frame is seen by the model, so the first frame changes too");

        var tied = EulerSampler.TieLastFrameToFirst(noise);
        tied.Narrow(2, 0, 2).Equal(noise.Narrow(2, 0, 2)).Should().BeTrue();
        tied.Narrow(2, 2, 1).Equal(noise.Narrow(2, 0, 1)).Should().BeTrue();
    }

    [Fact]
    public void A_connection_holds_both_ends_and_generates_the_frames_between()
    {
        using var scope = Tensor.NewDisposeScope();
        using var model = PerturbedModel(seed: 12);
        var start = Tensor.Randn([1, 4, 4, 4, 4]);
        var end = Tensor.Randn([1, 4, 4, 4, 4]);
        var sampler = new EulerSampler(new RectifiedFlow(), new SamplingOptions { Steps = 3, GuidanceScale = 2 });

        var connected = sampler.Sample(model, start.Shape, Caption(), ConditioningFrames.Ends(start, 1, end, 1), Tensor.Randn(start.Shape));

        connected.Narrow(2, 0, 1).Equal(start.Narrow(2, 0, 1)).Should().BeTrue();
        connected.Narrow(2, 3, 1).Equal(end.Narrow(2, 3, 1)).Should().BeTrue();
        connected.Narrow(2, 1, 2).AllClose(start.Narrow(2, 1, 2), atol: 1e-3).Should().BeFalse();
        connected.Narrow(2, 1, 2).AllClose(end.Narrow(2, 1, 2), atol: 1e-3).Should().BeFalse();
    }

    // A small DiT in eval mode whose zero-initialised gates are perturbed, so its output depends on its input.
    private static VideoDiT PerturbedModel(ulong seed)
    {
        RandomState.ManualSeed(seed);
        var model = new VideoDiT(Small, 8);
        VideoDiTTests.PerturbZeroInit(model);
        model.Eval();
        return model;
    }

    private static Tensor Caption() => Tensor.FromArray(new long[] { 2, 3, 0, 0 }, 1, 4);
}
