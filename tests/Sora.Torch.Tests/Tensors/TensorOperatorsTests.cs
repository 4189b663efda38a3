using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Tensors;

public class TensorOperatorsTests
{
    private static readonly GradCase[] GradCases =
    [
        new("tensor operators", () => [Uniform([2, 3], 1), Positive([2, 3], 2)], x => (-x[0] * x[1]) + (x[0] / x[1]) - x[1]),
        new("scalar on the right", () => [Uniform([2, 3], 1)], x => (((x[0] + 1.5) * 2.0) - 0.5) / 4.0),
        new("scalar minus tensor", () => [Uniform([2, 3], 1)], x => 2.0 - x[0]),
        new("scalar over tensor", () => [Positive([2, 3], 1)], x => 3.0 / x[0]),
        new("scalar plus and times tensor", () => [Uniform([2, 3], 1)], x => (2.0 + x[0]) * (3.0 * x[0])),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Operators_with_a_scalar_on_either_side_keep_its_position()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 4], 3);
        (x + 1).ShouldApproximate([2, 3, 5]);
        (2.0 + x).ShouldApproximate([3, 4, 6]);
        (x - 1).ShouldApproximate([0, 1, 3]);
        (10.0 - x).ShouldApproximate([9, 8, 6]);
        (x * 3).ShouldApproximate([3, 6, 12]);
        (2.0 * x).ShouldApproximate([2, 4, 8]);
        (x / 2).ShouldApproximate([0.5, 1, 2]);
        (8.0 / x).ShouldApproximate([8, 4, 2]);
        (-x).ShouldApproximate([-1, -2, -4]);
    }

    [Fact]
    public void Operators_between_tensors_broadcast()
    {
        using var scope = Tensor.NewDisposeScope();
        var column = Float64([1, 2], 2, 1);
        var row = Float64([10, 20, 40], 3);
        (column + row).ShouldApproximate([2, 3], [11, 21, 41, 12, 22, 42]);
        (row - column).ShouldApproximate([2, 3], [9, 19, 39, 8, 18, 38]);
        (column * row).ShouldApproximate([2, 3], [10, 20, 40, 20, 40, 80]);
        (row / column).ShouldApproximate([2, 3], [10, 20, 40, 5, 10, 20]);
    }
}
