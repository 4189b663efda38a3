using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Tensors;

public class TensorReductionTests
{
    // Distinct values (no ties) for the max/min family; norms stay away from zero.
    private static readonly GradCase[] GradCases =
    [
        new("sum all", () => [Uniform([2, 3], 1)], x => x[0].Sum()),
        new("sum dim", () => [Uniform([2, 3], 1)], x => x[0].Sum(1)),
        new("sum dims keepdim", () => [Uniform([2, 3, 2], 1)], x => x[0].Sum([0, 2], keepDim: true)),
        new("mean all", () => [Uniform([2, 3], 1)], x => x[0].Mean()),
        new("mean dim", () => [Uniform([2, 3], 1)], x => x[0].Mean(0)),
        new("mean all keepdim", () => [Uniform([2, 3], 1)], x => x[0].Mean([], keepDim: true)),
        new("var all unbiased", () => [Uniform([2, 3], 1)], x => x[0].Var()),
        new("var dim biased", () => [Uniform([2, 3], 1)], x => x[0].Var([1], unbiased: false)),
        new("var dims keepdim", () => [Uniform([2, 3, 2], 1)], x => x[0].Var([0, 2], keepDim: true)),
        new("amax all", () => [Uniform([2, 3], 1)], x => x[0].Amax()),
        new("amax dim", () => [Uniform([2, 3], 1)], x => x[0].Amax([1])),
        new("amin all", () => [Uniform([2, 3], 1)], x => x[0].Amin()),
        new("amin dim keepdim", () => [Uniform([2, 3], 1)], x => x[0].Amin([0], keepDim: true)),
        new("max all", () => [Uniform([2, 3], 1)], x => x[0].Max()),
        new("min all", () => [Uniform([2, 3], 1)], x => x[0].Min()),
        new("max dim values", () => [Uniform([2, 3], 1)], x => x[0].Max(1).Values),
        new("min dim values keepdim", () => [Uniform([2, 3], 1)], x => x[0].Min(0, keepDim: true).Values),
        new("norm 2 all", () => [Uniform([2, 3], 1)], x => x[0].Norm()),
        new("norm 2 dim", () => [Uniform([2, 3], 1)], x => x[0].Norm(2, [1])),
        new("norm 1 dim", () => [Float64([0.5, -0.3, 0.8, -0.9, 0.2, 0.4], 2, 3)], x => x[0].Norm(1, [0])),
        new("norm 3 all", () => [Uniform([2, 3], 1)], x => x[0].Norm(3)),
        new("logsumexp all", () => [Uniform([2, 3], 1)], x => x[0].LogSumExp()),
        new("logsumexp dim keepdim", () => [Uniform([2, 3], 1)], x => x[0].LogSumExp([1], keepDim: true)),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Sum_and_mean_reduce_all_or_the_given_dims()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6], 2, 3);
        x.Sum().ShouldApproximate([], [21]);
        x.Sum(0).ShouldApproximate([3], [5, 7, 9]);
        x.Sum(1, keepDim: true).ShouldApproximate([2, 1], [6, 15]);
        x.Sum([0, 1], keepDim: true).ShouldApproximate([1, 1], [21]);
        x.Sum([], keepDim: true).ShouldApproximate([1, 1], [21]);
        x.Mean().ShouldApproximate([], [3.5]);
        x.Mean(-1).ShouldApproximate([2], [2, 5]);
        x.Mean([0], keepDim: true).ShouldApproximate([1, 3], [2.5, 3.5, 4.5]);
        Int64([1, 2, 3], 3).Sum().ToArray<long>().Should().Equal(6);
    }

    [Fact]
    public void Var_divides_by_n_minus_one_when_unbiased_and_by_n_otherwise()
    {
        using var scope = Tensor.NewDisposeScope();
        // Mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5.
        var x = Float64([1, 2, 3, 4], 4);
        x.Var().ShouldApproximate([], [5.0 / 3]);
        x.Var(unbiased: false).ShouldApproximate([], [5.0 / 4]);

        var rows = Float64([1, 3, 2, 6], 2, 2);
        rows.Var([1]).ShouldApproximate([2], [2, 8]);
        rows.Var([1], unbiased: false, keepDim: true).ShouldApproximate([2, 1], [1, 4]);
    }

    [Fact]
    public void Amax_amin_max_and_min_find_extremes()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([3, -1, 7, 2, 9, -4], 2, 3);
        x.Amax().ShouldApproximate([], [9]);
        x.Amin().ShouldApproximate([], [-4]);
        x.Max().ShouldApproximate([], [9]);
        x.Min().ShouldApproximate([], [-4]);
        x.Amax([0]).ShouldApproximate([3], [3, 9, 7]);
        x.Amin([1], keepDim: true).ShouldApproximate([2, 1], [-1, -4]);

        var (values, indices) = x.Max(1);
        values.ShouldApproximate([2], [7, 9]);
        indices.DType.Should().Be(ScalarType.Int64);
        indices.ToArray<long>().Should().Equal(2, 1);

        var (minValues, minIndices) = x.Min(0, keepDim: true);
        minValues.ShouldApproximate([1, 3], [2, -1, -4]);
        minIndices.Shape.Should().Equal(1, 3);
        minIndices.ToArray<long>().Should().Equal(1, 0, 1);
    }

    [Fact]
    public void ArgMax_and_ArgMin_index_the_flattened_tensor_or_a_dim()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([3, -1, 7, 2, 9, -4], 2, 3);
        x.ArgMax().ToArray<long>().Should().Equal(4);
        x.ArgMin().ToArray<long>().Should().Equal(5);
        x.ArgMax(0).ToArray<long>().Should().Equal(0, 1, 0);
        x.ArgMin(1).ToArray<long>().Should().Equal(1, 2);

        var kept = x.ArgMax(1, keepDim: true);
        kept.Shape.Should().Equal(2, 1);
        kept.ToArray<long>().Should().Equal(2, 1);
    }

    [Fact]
    public void Norm_and_logsumexp_match_their_definitions()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([3, -4], 2);
        x.Norm().ShouldApproximate([], [5]);
        x.Norm(1).ShouldApproximate([], [7]);
        Float64([3, -4, 0, 1], 2, 2).Norm(2, [1]).ShouldApproximate([2], [5, 1]);
        Float64([1, -2], 2).Norm(3).ShouldApproximate([], [Math.Cbrt(9)]);

        Float64([0, Math.Log(3)], 2).LogSumExp().ShouldApproximate([], [Math.Log(4)]);
        Float64([1000, 1000], 2).LogSumExp().ShouldApproximate([], [1000 + Math.Log(2)]);
        Float64([0, Math.Log(3), 0, 0], 2, 2).LogSumExp([1], keepDim: true).ShouldApproximate([2, 1], [Math.Log(4), Math.Log(2)]);
    }

    [Fact]
    public void A_dim_out_of_range_is_an_index_error()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Ones([2, 3]);
        var error = NativeFailure.ShouldFailWith(() => x.Sum(5), "Dimension out of range (expected to be in range of [-2, 1], but got 5)");
        error.Kind.Should().Be(TorchErrorKind.Index);
        NativeFailure.ShouldFailWith(() => x.Max(2), "Dimension out of range");
        NativeFailure.ShouldFailWith(() => x.ArgMax(-3), "Dimension out of range");
        NativeFailure.ShouldFailWith(() => Tensor.Ones([2, 0]).Max(1), "Expected reduction dim 1 to have non-zero size");
    }
}
