using Sora.Model.Tests.Support;
using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Model.Tests.Vae;

[Collection(GlobalRandomCollection.Name)]
public class PatchVaeTowerTests
{
    [Theory]
    [InlineData(2, 8, 32, 32, 4, 8, 8)]
    [InlineData(2, 1, 32, 32, 1, 8, 8)]
    [InlineData(2, 16, 48, 32, 8, 12, 8)]
    [InlineData(2, 5, 30, 18, 3, 8, 5)]
    [InlineData(8, 8, 32, 32, 1, 8, 8)]
    [InlineData(8, 1, 32, 32, 1, 8, 8)]
    [InlineData(8, 16, 48, 32, 2, 12, 8)]
    [InlineData(8, 5, 30, 18, 1, 8, 5)]
    public void The_patch_stem_compresses_space_by_four_and_time_by_its_factor_even_above_four_and_decodes_to_the_input_size(
        int temporal, long t, long h, long w, long lt, long lh, long lw)
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(1);
        var config = VaeConfig.Patch with { TemporalDownsample = temporal };
        config.Validate();
        using var vae = new VideoVae(config);
        var video = Tensor.Rand([2, 3, t, h, w]).Mul(2).Sub(1);
        var (mean, logVar) = vae.Encode(video);
        mean.Shape.Should().Equal(2, 8, lt, lh, lw);
        logVar.Shape.Should().Equal(mean.Shape);
        vae.Decode(mean, t, h, w).Shape.Should().Equal(2, 3, t, h, w);
    }

    [Fact]
    public void A_short_run_reconstructs_moving_squares_far_better_than_their_mean_colour()
    {
        var (error, baseline) = ShortRun(VaeConfig.Patch with { BaseChannels = 48 });

        // Observed: error 0.0279 against a baseline of 0.060 (the mean-colour prediction of each clip); 0.0279 in each of
        // ten runs with other CPU kernels (ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE), against the bound of 0.033.
        error.Should().BeLessThan(baseline / 1.8, $"baseline {baseline:F4}");
    }

    [Fact]
    public void A_pixel_head_learns_through_its_convolutions_in_a_short_run()
    {
        var (error, baseline) = ShortRun(VaeConfig.Patch with { BaseChannels = 48, PixelHeadChannels = 16 });

        // Observed: error 0.0345 against the same 0.060 baseline (it starts slower than the linear unpatch, and passes it on the
        // main job: docs/model.md); 0.0345-0.0367 in ten runs with other CPU kernels (ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE),
        // against the bound of 0.046. Unpinned, beside other tests drawing from the global generator, it read 0.037-0.044
        // here and 0.049 on a fresh clone.
        error.Should().BeLessThan(baseline / 1.3, $"baseline {baseline:F4}");
    }

    [Theory]
    [InlineData(1, 8, 32, 32)]
    [InlineData(8, 8, 32, 32)]
    [InlineData(8, 5, 30, 18)]
    public void A_pixel_head_decodes_to_the_input_size(int temporal, long t, long h, long w)
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(3);
        using var vae = new VideoVae(VaeConfig.Patch with { TemporalDownsample = temporal, PixelHeadChannels = 8 });
        var (mean, _) = vae.Encode(Tensor.Rand([2, 3, t, h, w]).Mul(2).Sub(1));
        vae.Decode(mean, t, h, w).Shape.Should().Equal(2, 3, t, h, w);
    }

    // 150 AdamW steps on 32 moving-squares clips; the held-out reconstruction error and the mean-colour baseline. Alone
    // in the process (the collection) and on pinned threads, the run is the same on every run of one machine.
    private static (double Error, double Baseline) ShortRun(VaeConfig config)
    {
        using var threads = new PinnedThreads();
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(2);
        using var vae = new VideoVae(config);
        using var adam = new AdamW(vae.Parameters(), learningRate: 2e-3, weightDecay: 0);
        var train = MovingSquares(32, seed: 1);
        var heldOut = MovingSquares(8, seed: 2);
        for (var step = 0; step < 150; step++)
        {
            using var stepScope = Tensor.NewDisposeScope();
            adam.ZeroGrad();
            vae.Loss(train.Narrow(0, step * 8 % 32, 8)).Total.Backward();
            adam.Step();
        }

        using var noGrad = Tensor.NoGrad();
        vae.Eval();
        var (mean, _) = vae.Encode(heldOut);
        var error = vae.Decode(mean, 8, 32, 32).Sub(heldOut).Square().Mean().ItemDouble();
        var baseline = heldOut.Sub(heldOut.Mean([2, 3, 4], keepDim: true)).Square().Mean().ItemDouble();
        return (error, baseline);
    }

    /// <summary>n clips (3, 8, 32, 32) in [-1, 1]: a coloured 8×8 square moving one pixel a frame over a plain background.</summary>
    internal static Tensor MovingSquares(int n, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[n * 3 * 8 * 32 * 32];
        for (var i = 0; i < n; i++)
        {
            var background = new[] { random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1 };
            var colour = background.Select(b => -b).ToArray();
            var (x, y) = (random.Next(0, 16), random.Next(0, 16));
            var (dx, dy) = (random.Next(-1, 2), random.Next(-1, 2));
            for (var c = 0; c < 3; c++)
            {
                for (var t = 0; t < 8; t++)
                {
                    for (var row = 0; row < 32; row++)
                    {
                        for (var col = 0; col < 32; col++)
                        {
                            var inside = row >= y + (dy * t) && row < y + (dy * t) + 8 && col >= x + (dx * t) && col < x + (dx * t) + 8;
                            pixels[((((i * 3) + c) * 8 + t) * 32 + row) * 32 + col] = inside ? colour[c] : background[c];
                        }
                    }
                }
            }
        }

        return Tensor.FromSpan<float>(pixels, [n, 3, 8, 32, 32]);
    }
}
