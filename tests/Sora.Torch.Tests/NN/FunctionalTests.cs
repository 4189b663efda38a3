using Sora.Torch.NN;
using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.NN;

[Collection(GlobalRandomCollection.Name)]
public class FunctionalTests
{
    private static readonly GradCase[] GradCases =
    [
        new("linear", () => [Uniform([2, 3], 1), Uniform([4, 3], 2), Uniform([4], 3)], x => Functional.Linear(x[0], x[1], x[2])),
        new("linear without bias", () => [Uniform([2, 3], 1), Uniform([4, 3], 2)], x => Functional.Linear(x[0], x[1])),
        new("linear batched", () => [Uniform([2, 2, 3], 1), Uniform([2, 3], 2), Uniform([2], 3)], x => Functional.Linear(x[0], x[1], x[2])),
        new("layer_norm", () => [Uniform([2, 4], 1)], x => Functional.LayerNorm(x[0], [4])),
        new("layer_norm affine", () => [Uniform([2, 4], 1), Uniform([4], 2), Uniform([4], 3)], x => Functional.LayerNorm(x[0], [4], x[1], x[2])),
        new("layer_norm two dims", () => [Uniform([2, 2, 3], 1), Uniform([2, 3], 2), Uniform([2, 3], 3)], x => Functional.LayerNorm(x[0], [2, 3], x[1], x[2])),
        new("group_norm", () => [Uniform([2, 4, 3], 1)], x => Functional.GroupNorm(x[0], 2)),
        new("group_norm affine", () => [Uniform([2, 4, 3], 1), Uniform([4], 2), Uniform([4], 3)], x => Functional.GroupNorm(x[0], 2, x[1], x[2])),
        new("conv2d", () => [Uniform([1, 2, 4, 4], 1), Uniform([3, 2, 2, 2], 2), Uniform([3], 3)], x => Functional.Conv2d(x[0], x[1], x[2])),
        new("conv2d stride padding", () => [Uniform([1, 2, 4, 4], 1), Uniform([3, 2, 2, 2], 2), Uniform([3], 3)],
            x => Functional.Conv2d(x[0], x[1], x[2], stride: (2, 1), padding: (1, 0))),
        new("conv2d dilation groups", () => [Uniform([1, 2, 4, 4], 1), Uniform([4, 1, 2, 2], 2)],
            x => Functional.Conv2d(x[0], x[1], dilation: (2, 1), groups: 2)),
        new("conv3d", () => [Uniform([1, 2, 3, 3, 3], 1), Uniform([2, 2, 2, 2, 2], 2), Uniform([2], 3)],
            x => Functional.Conv3d(x[0], x[1], x[2], stride: (1, 2, 1), padding: (1, 0, 1))),
        new("conv_transpose3d", () => [Uniform([1, 2, 2, 2, 2], 1), Uniform([2, 3, 2, 2, 2], 2), Uniform([3], 3)],
            x => Functional.ConvTranspose3d(x[0], x[1], x[2], stride: (2, 2, 2), padding: (1, 0, 1), outputPadding: (1, 1, 0))),
        new("conv_transpose3d groups", () => [Uniform([1, 2, 2, 2, 1], 1), Uniform([2, 1, 2, 2, 1], 2)],
            x => Functional.ConvTranspose3d(x[0], x[1], stride: (1, 2, 1), groups: 2)),
        new("interpolate nearest 1d", () => [Uniform([1, 2, 3], 1)], x => Functional.Interpolate(x[0], [7])),
        new("interpolate nearest 2d", () => [Uniform([1, 2, 2, 3], 1)], x => Functional.Interpolate(x[0], [4, 5])),
        new("interpolate nearest 3d", () => [Uniform([1, 1, 2, 2, 2], 1)], x => Functional.Interpolate(x[0], [3, 4, 2])),
        new("interpolate linear 1d", () => [Uniform([1, 2, 3], 1)], x => Functional.Interpolate(x[0], [5], InterpolationMode.Linear)),
        new("interpolate bilinear", () => [Uniform([1, 1, 2, 3], 1)], x => Functional.Interpolate(x[0], [3, 5], InterpolationMode.Linear)),
        new("interpolate bilinear align corners", () => [Uniform([1, 1, 2, 3], 1)],
            x => Functional.Interpolate(x[0], [4, 4], InterpolationMode.Linear, alignCorners: true)),
        new("interpolate trilinear", () => [Uniform([1, 1, 2, 2, 2], 1)], x => Functional.Interpolate(x[0], [3, 3, 4], InterpolationMode.Linear)),
        new("interpolate trilinear align corners", () => [Uniform([1, 1, 2, 2, 2], 1)],
            x => Functional.Interpolate(x[0], [3, 4, 3], InterpolationMode.Linear, alignCorners: true)),
        new("dropout eval", () => [Uniform([2, 3], 1)], x => Functional.Dropout(x[0], 0.5, training: false)),
        new("dropout train", () => [Uniform([4, 5], 1)], x =>
        {
            // Re-seeded on every evaluation so that every evaluation draws the same mask.
            RandomState.ManualSeed(3);
            return Functional.Dropout(x[0], 0.4, training: true);
        }),
        new("embedding", () => [Uniform([5, 3], 1)], x => Functional.Embedding(Int64([0, 2, 4, 2], 2, 2), x[0])),
        new("mse_loss none", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => Functional.MseLoss(x[0], x[1], Reduction.None)),
        new("mse_loss mean", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => Functional.MseLoss(x[0], x[1])),
        new("mse_loss sum", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => Functional.MseLoss(x[0], x[1], Reduction.Sum)),
        new("attention", () => [Uniform([2, 3, 4], 1), Uniform([2, 5, 4], 2), Uniform([2, 5, 2], 3)],
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2])),
        new("attention with heads and scale", () => [Uniform([1, 2, 3, 2], 1), Uniform([1, 2, 3, 2], 2), Uniform([1, 2, 3, 2], 3)],
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], scale: 0.3)),
        new("attention bool mask", () => [Uniform([2, 3, 4], 1), Uniform([2, 3, 4], 2), Uniform([2, 3, 2], 3)],
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], Bool([true, false, false, true, true, false, true, true, true], 3, 3))),
        new("attention float mask", () => [Uniform([2, 3, 4], 1), Uniform([2, 3, 4], 2), Uniform([2, 3, 2], 3)],
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], Float64([0, -1, double.NegativeInfinity, 0.5, 0, -2, 1, double.NegativeInfinity, 0], 3, 3))),
        new("gelu", () => [Uniform([2, 3], 1, -3, 3)], x => Functional.Gelu(x[0])),
        new("gelu tanh", () => [Uniform([2, 3], 1, -3, 3)], x => Functional.Gelu(x[0], tanhApproximation: true)),
        new("silu", () => [Uniform([2, 3], 1, -3, 3)], x => Functional.Silu(x[0])),
        new("softmax", () => [Uniform([2, 3], 1, -2, 2)], x => Functional.Softmax(x[0], 1)),
        new("log_softmax", () => [Uniform([2, 3], 1, -2, 2)], x => Functional.LogSoftmax(x[0], 0)),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Linear_multiplies_by_the_transposed_weight_and_adds_the_bias()
    {
        using var scope = Tensor.NewDisposeScope();
        var input = Float64([1, 2], 1, 2);
        var weight = Float64([1, 0, 0, 1, 1, 1], 3, 2);
        Functional.Linear(input, weight, Float64([0.5, -0.5, 1], 3)).ShouldApproximate([1, 3], [1.5, 1.5, 4]);
        Functional.Linear(input, weight).ShouldApproximate([1, 3], [1, 2, 3]);
    }

    [Fact]
    public void Layer_norm_normalises_the_trailing_dims()
    {
        using var scope = Tensor.NewDisposeScope();
        // Mean 2, biased variance 2/3.
        var scale = 1 / Math.Sqrt((2.0 / 3) + 1e-5);
        var x = Float64([1, 2, 3], 1, 3);
        Functional.LayerNorm(x, [3]).ShouldApproximate([1, 3], [-scale, 0, scale]);
        Functional.LayerNorm(x, [3], Float64([1, 2, 3], 3), Float64([0, 1, 0], 3)).ShouldApproximate([1, 3], [-scale, 1, 3 * scale]);
        Functional.LayerNorm(x, [3], eps: 1).ShouldApproximate([-1 / Math.Sqrt(5.0 / 3), 0, 1 / Math.Sqrt(5.0 / 3)]);

        // Over two dims the statistics cover all six elements: mean 3.5, biased variance 35/12.
        var both = Functional.LayerNorm(Float64([1, 2, 3, 4, 5, 6], 1, 2, 3), [2, 3], eps: 0);
        both.ShouldApproximate([1, 2, 3], new double[] { 1, 2, 3, 4, 5, 6 }.Select(v => (v - 3.5) / Math.Sqrt(35.0 / 12)).ToArray());
    }

    [Fact]
    public void Group_norm_normalises_each_group_of_channels()
    {
        using var scope = Tensor.NewDisposeScope();
        // Groups {1, 3} and {5, 7}: each has mean ± 1 and biased variance 1.
        var x = Float64([1, 3, 5, 7], 1, 4, 1);
        Functional.GroupNorm(x, 2, eps: 0).ShouldApproximate([1, 4, 1], [-1, 1, -1, 1]);
        Functional.GroupNorm(x, 2, Float64([1, 2, 3, 4], 4), Float64([0, 0, 1, 1], 4), eps: 0).ShouldApproximate([-1, 2, -2, 5]);
        Functional.GroupNorm(x, 1, eps: 0).ShouldApproximate(new double[] { 1, 3, 5, 7 }.Select(v => (v - 4) / Math.Sqrt(5)).ToArray());
    }

    [Fact]
    public void Conv2d_slides_a_known_kernel()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var ones = Tensor.Ones([1, 1, 2, 2], ScalarType.Float64);

        Functional.Conv2d(x, ones).ShouldApproximate([1, 1, 2, 2], [12, 16, 24, 28]);
        Functional.Conv2d(x, ones, Float64([1], 1)).ShouldApproximate([13, 17, 25, 29]);
        Functional.Conv2d(x, Float64([1, 0, 0, -1], 1, 1, 2, 2)).ShouldApproximate([-4, -4, -4, -4]);
        Functional.Conv2d(x, ones, stride: (2, 2), padding: (1, 1)).ShouldApproximate([1, 1, 2, 2], [1, 5, 11, 28]);
        Functional.Conv2d(x, ones, dilation: (2, 2)).ShouldApproximate([1, 1, 1, 1], [1 + 3 + 7 + 9]);

        var twoChannels = Float64([1, 2, 3, 4, 10, 20, 30, 40], 1, 2, 2, 2);
        Functional.Conv2d(twoChannels, Float64([2, 3], 2, 1, 1, 1), groups: 2)
            .ShouldApproximate([1, 2, 2, 2], [2, 4, 6, 8, 30, 60, 90, 120]);
    }

    [Fact]
    public void Conv3d_sums_a_cube()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6, 7, 8], 1, 1, 2, 2, 2);
        Functional.Conv3d(x, Tensor.Ones([1, 1, 2, 2, 2], ScalarType.Float64), Float64([0.5], 1)).ShouldApproximate([1, 1, 1, 1, 1], [36.5]);
        Functional.Conv3d(x, Tensor.Ones([1, 1, 1, 1, 1], ScalarType.Float64), padding: (1, 0, 0)).Shape.Should().Equal(1, 1, 4, 2, 2);
    }

    [Fact]
    public void Conv_transpose3d_scatters_each_input_through_the_kernel()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 1, 1, 1, 1, 2);
        var kernel = Float64([1, 10], 1, 1, 1, 1, 2);

        // Each input element writes the kernel at stride 2: [1, 10] and [2, 20] side by side.
        Functional.ConvTranspose3d(x, kernel, stride: (1, 1, 2)).ShouldApproximate([1, 1, 1, 1, 4], [1, 10, 2, 20]);
        Functional.ConvTranspose3d(x, kernel, Float64([100], 1), stride: (1, 1, 2)).ShouldApproximate([101, 110, 102, 120]);
        // Padding trims the border; output padding adds back room on the trailing side.
        Functional.ConvTranspose3d(x, kernel, stride: (1, 1, 2), padding: (0, 0, 1)).ShouldApproximate([1, 1, 1, 1, 2], [10, 2]);
        Functional.ConvTranspose3d(x, kernel, stride: (1, 1, 2), padding: (0, 0, 1), outputPadding: (0, 0, 1))
            .ShouldApproximate([1, 1, 1, 1, 3], [10, 2, 20]);

        // (in - 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1 per dim.
        var shape = Functional.ConvTranspose3d(
            Tensor.Zeros([2, 4, 2, 3, 4]), Tensor.Zeros([4, 6, 3, 3, 3]), stride: (2, 2, 1), padding: (1, 0, 1), outputPadding: (1, 1, 0), groups: 2,
            dilation: (1, 2, 1)).Shape;
        shape.Should().Equal(2, 12, 4, 10, 4);
    }

    [Fact]
    public void Interpolate_nearest_doubles_by_repeating()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4], 1, 1, 2, 2);
        double[] doubled = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4];
        Functional.Interpolate(x, [4, 4]).ShouldApproximate([1, 1, 4, 4], doubled);
        Functional.Interpolate(x, [2.0, 2.0]).ShouldApproximate([1, 1, 4, 4], doubled);
        Functional.Interpolate(Float64([1, 2], 1, 1, 1, 1, 2), [2, 1, 4]).ShouldApproximate([1, 1, 2, 1, 4], [1, 1, 2, 2, 1, 1, 2, 2]);
    }

    [Fact]
    public void Interpolate_linear_blends_neighbours()
    {
        using var scope = Tensor.NewDisposeScope();
        var line = Float64([0, 3], 1, 1, 2);
        Functional.Interpolate(line, [4], InterpolationMode.Linear, alignCorners: true).ShouldApproximate([1, 1, 4], [0, 1, 2, 3]);
        // Without aligned corners sample i sits at (i + 0.5)·(2/4) − 0.5, clamped to the input.
        Functional.Interpolate(line, [4], InterpolationMode.Linear).ShouldApproximate([1, 1, 4], [0, 0.75, 2.25, 3]);

        var cube = Float64([0, 1, 2, 3, 4, 5, 6, 7], 1, 1, 2, 2, 2);
        var resized = Functional.Interpolate(cube, [3, 3, 3], InterpolationMode.Linear, alignCorners: true);
        resized.Shape.Should().Equal(1, 1, 3, 3, 3);
        var values = resized.Values();
        values[0].Should().BeApproximately(0, 1e-12);
        values[13].Should().BeApproximately(3.5, 1e-12, "the centre is the mean of the eight corners");
        values[26].Should().BeApproximately(7, 1e-12);
        values[1].Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Interpolate_rejects_sizes_that_do_not_match_the_spatial_dims()
    {
        using var scope = Tensor.NewDisposeScope();
        var error = NativeFailure.ShouldFailWith(() => Functional.Interpolate(Tensor.Zeros([1, 1, 4]), [2, 2]), "input has 3 dims but 2 output sizes were given");
        error.Kind.Should().Be(TorchErrorKind.Argument);
        var act = () => Functional.Interpolate(Tensor.Zeros([1, 1, 4]), [2.0, 2.0]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 scale factors*1 spatial dims*");
    }

    [Fact]
    public void Dropout_is_the_identity_in_eval_mode_and_masks_and_rescales_in_training()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Ones([10000], ScalarType.Float64);
        Functional.Dropout(x, 0.5, training: false).Values().Should().OnlyContain(v => v == 1);
        Functional.Dropout(x, 0, training: true).Values().Should().OnlyContain(v => v == 1);
        Functional.Dropout(x, 1, training: true).Values().Should().OnlyContain(v => v == 0);

        RandomState.ManualSeed(11);
        var dropped = Functional.Dropout(x, 0.25, training: true).Values();
        dropped.Should().OnlyContain(v => v == 0 || Math.Abs(v - (1 / 0.75)) < 1e-12);
        dropped.Count(v => v == 0).Should().BeInRange(2300, 2700);

        RandomState.ManualSeed(11);
        Functional.Dropout(x, 0.25, training: true).Values().Should().Equal(dropped, "the mask comes from the seeded generator");
    }

    [Fact]
    public void Embedding_looks_up_rows()
    {
        using var scope = Tensor.NewDisposeScope();
        var weight = Float64([0, 1, 2, 3, 4, 5], 3, 2);
        Functional.Embedding(Int64([2, 0, 1, 1], 2, 2), weight).ShouldApproximate([2, 2, 2], [4, 5, 0, 1, 2, 3, 2, 3]);

        var error = NativeFailure.ShouldFailWith(() => Functional.Embedding(Int64([3], 1), weight), "index out of range in self");
        error.Kind.Should().Be(TorchErrorKind.Index);
    }

    [Fact]
    public void Embedding_gradient_sums_over_repeated_indices()
    {
        using var scope = Tensor.NewDisposeScope();
        var weight = Tensor.Zeros([3, 2], ScalarType.Float64).RequiresGrad_();
        Functional.Embedding(Int64([2, 0, 2], 3), weight).Sum().Backward();
        weight.Grad()!.ShouldApproximate([3, 2], [1, 1, 0, 0, 2, 2]);
    }

    [Fact]
    public void Mse_loss_reduces_as_asked()
    {
        using var scope = Tensor.NewDisposeScope();
        var input = Float64([1, 2, 3], 3);
        var target = Float64([1, 4, 0], 3);
        Functional.MseLoss(input, target, Reduction.None).ShouldApproximate([3], [0, 4, 9]);
        Functional.MseLoss(input, target).ShouldApproximate([], [13.0 / 3]);
        Functional.MseLoss(input, target, Reduction.Sum).ShouldApproximate([], [13]);
    }

    [Fact]
    public void Attention_weights_values_by_the_softmax_of_scaled_scores()
    {
        using var scope = Tensor.NewDisposeScope();
        var q = Float64([1, 0], 1, 2);
        var k = Float64([1, 0, 0, 1], 2, 2);
        var v = Float64([1, 2, 3, 4], 2, 2);

        // Scores [1, 0]·scale; weights w and 1 − w on the two value rows.
        var expected = (double scale) =>
        {
            var w = Math.Exp(scale) / (Math.Exp(scale) + 1);
            return new[] { w + (3 * (1 - w)), (2 * w) + (4 * (1 - w)) };
        };
        Functional.ScaledDotProductAttention(q, k, v, scale: 1).ShouldApproximate([1, 2], expected(1));
        Functional.ScaledDotProductAttention(q, k, v).ShouldApproximate([1, 2], expected(1 / Math.Sqrt(2)));

        Functional.ScaledDotProductAttention(q, k, v, Bool([false, true], 1, 2)).ShouldApproximate([1, 2], [3, 4]);
        Functional.ScaledDotProductAttention(q, k, v, Float64([0, double.NegativeInfinity], 1, 2)).ShouldApproximate([1, 2], [1, 2]);
        // An additive mask of −1 on the first key cancels its score advantage at scale 1.
        Functional.ScaledDotProductAttention(q, k, v, Float64([-1, 0], 1, 2), scale: 1).ShouldApproximate([1, 2], [2, 3]);
    }

    [Fact]
    public void Functional_errors_carry_libtorchs_explanation()
    {
        using var scope = Tensor.NewDisposeScope();
        NativeFailure.ShouldFailWith(
            () => Functional.Conv2d(Tensor.Zeros([1, 3, 4, 4]), Tensor.Zeros([3, 2, 2, 2])), "expected input[1, 3, 4, 4] to have 2 channels, but got 3 channels instead");
        NativeFailure.ShouldFailWith(
            () => Functional.LayerNorm(Tensor.Zeros([2, 3]), [4]), "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]");
        NativeFailure.ShouldFailWith(() => Functional.GroupNorm(Tensor.Zeros([1, 3, 2]), 2), "Expected number of channels in input to be divisible by num_groups");
        NativeFailure.ShouldFailWith(() => Functional.Linear(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 4])), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x4)");
        NativeFailure.ShouldFailWith(() => Functional.Dropout(Tensor.Zeros([2]), 1.5, training: true), "dropout probability has to be between 0 and 1, but got 1.5");
    }
}
