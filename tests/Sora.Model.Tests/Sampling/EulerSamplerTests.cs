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
        RandomState.ManualSeed(10);
        using var model = new VideoDiT(Small, 8);
        VideoDiTTests.PerturbZeroInit(model);
        model.Eval();
        var given = Tensor.Randn([1, 4, 3, 4, 4]);
        var captions = Tensor.FromArray(new long[] { 2, 3, 0, 0 }, 1, 4);
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
}
