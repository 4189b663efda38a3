using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Tensors;

public class TensorLinearAlgebraTests
{
    private static readonly GradCase[] GradCases =
    [
        new("matmul 2d", () => [Uniform([2, 3], 1), Uniform([3, 4], 2)], x => x[0].MatMul(x[1])),
        new("matmul batched by matrix", () => [Uniform([2, 2, 3], 1), Uniform([3, 2], 2)], x => x[0].MatMul(x[1])),
        new("matmul broadcast batches", () => [Uniform([2, 1, 2, 3], 1), Uniform([3, 3, 2], 2)], x => x[0].MatMul(x[1])),
        new("matmul vector by matrix", () => [Uniform([3], 1), Uniform([3, 2], 2)], x => x[0].MatMul(x[1])),
        new("matmul matrix by vector", () => [Uniform([2, 3], 1), Uniform([3], 2)], x => x[0].MatMul(x[1])),
        new("mm", () => [Uniform([2, 3], 1), Uniform([3, 2], 2)], x => x[0].Mm(x[1])),
        new("mm transposed operand", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mm(x[1].T())),
        new("bmm", () => [Uniform([2, 2, 3], 1), Uniform([2, 3, 2], 2)], x => x[0].Bmm(x[1])),
        new("addmm", () => [Uniform([2, 2], 1), Uniform([2, 3], 2), Uniform([3, 2], 3)], x => Tensor.Addmm(x[0], x[1], x[2])),
        new("addmm scaled broadcast", () => [Uniform([2], 1), Uniform([2, 3], 2), Uniform([3, 2], 3)], x => Tensor.Addmm(x[0], x[1], x[2], beta: 0.5, alpha: -2.0)),
        new("baddbmm", () => [Uniform([2, 2, 2], 1), Uniform([2, 2, 3], 2), Uniform([2, 3, 2], 3)], x => Tensor.Baddbmm(x[0], x[1], x[2], beta: 2.0, alpha: 0.5)),
        new("where", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => Tensor.Where(Bool([true, false, true, false, false, true], 2, 3), x[0], x[1])),
        new("where broadcast", () => [Uniform([2, 3], 1), Uniform([3], 2)], x => Tensor.Where(Bool([true, false], 2, 1), x[0], x[1])),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Two_by_two_products_match_hand_computation()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3, 4], 2, 2);
        var b = Float64([5, 6, 7, 8], 2, 2);
        a.MatMul(b).ShouldApproximate([2, 2], [19, 22, 43, 50]);
        a.Mm(b).ShouldApproximate([2, 2], [19, 22, 43, 50]);
        a.Mm(b.T()).ShouldApproximate([2, 2], [17, 23, 39, 53]);
        a.MatMul(Float64([1, 1], 2)).ShouldApproximate([2], [3, 7]);
        Float64([1, 1], 2).MatMul(a).ShouldApproximate([2], [4, 6]);
    }

    [Fact]
    public void Batched_products_multiply_each_batch_entry()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3, 4, 1, 0, 0, 1], 2, 2, 2);
        var b = Float64([5, 6, 7, 8, 2, 3, 4, 5], 2, 2, 2);
        a.Bmm(b).ShouldApproximate([2, 2, 2], [19, 22, 43, 50, 2, 3, 4, 5]);
        a.MatMul(Float64([1, 0, 0, 2], 2, 2)).ShouldApproximate([2, 2, 2], [1, 4, 3, 8, 1, 0, 0, 2]);
        Float64([1, 2], 1, 1, 2).MatMul(b).ShouldApproximate([2, 1, 2], [19, 22, 10, 13]);
    }

    [Fact]
    public void Addmm_and_baddbmm_scale_both_terms()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3, 4], 2, 2);
        var b = Float64([5, 6, 7, 8], 2, 2);
        var input = Float64([1, 10], 2);

        Tensor.Addmm(input, a, b).ShouldApproximate([2, 2], [20, 32, 44, 60]);
        Tensor.Addmm(input, a, b, beta: 2, alpha: 0.5).ShouldApproximate([2, 2], [2 + 9.5, 20 + 11, 2 + 21.5, 20 + 25]);
        Tensor.Addmm(input, a, b, beta: 0).ShouldApproximate([2, 2], [19, 22, 43, 50]);

        var batched = Tensor.Baddbmm(Float64([1, 1, 1, 1], 1, 2, 2), a.Unsqueeze(0), b.Unsqueeze(0), beta: -1, alpha: 2);
        batched.ShouldApproximate([1, 2, 2], [37, 43, 85, 99]);
    }

    [Fact]
    public void MmOut_writes_into_the_given_tensor()
    {
        using var scope = Tensor.NewDisposeScope();
        var output = Tensor.Zeros([2, 2], ScalarType.Float64);
        Tensor.MmOut(output, Float64([1, 2, 3, 4], 2, 2), Float64([5, 6, 7, 8], 2, 2));
        output.ShouldApproximate([2, 2], [19, 22, 43, 50]);
    }

    [Fact]
    public void Where_chooses_by_condition_with_broadcasting()
    {
        using var scope = Tensor.NewDisposeScope();
        var condition = Bool([true, false, false, true], 2, 2);
        Tensor.Where(condition, Float64([1, 2, 3, 4], 2, 2), Float64([-1, -2, -3, -4], 2, 2)).ShouldApproximate([2, 2], [1, -2, -3, 4]);
        Tensor.Where(Bool([true, false], 2, 1), Float64([1, 2], 2), Float64([9], 1)).ShouldApproximate([2, 2], [1, 2, 9, 9]);
    }

    [Fact]
    public void Mismatched_inner_dimensions_fail_with_libtorchs_explanation()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Tensor.Ones([2, 3]);
        var b = Tensor.Ones([4, 5]);
        NativeFailure.ShouldFailWith(() => a.MatMul(b), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
        NativeFailure.ShouldFailWith(() => a.Mm(b), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
        NativeFailure.ShouldFailWith(() => Tensor.Ones([2, 2, 3]).Bmm(Tensor.Ones([3, 3, 2])), "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]");
        NativeFailure.ShouldFailWith(() => Tensor.Ones([2, 3]).Bmm(Tensor.Ones([3, 2])), "batch1 must be a 3D tensor");
        NativeFailure.ShouldFailWith(() => Tensor.Addmm(Tensor.Ones([3, 3]), a, Tensor.Ones([3, 2])), "The expanded size of the tensor (2) must match the existing size (3)");
        a.Mm(Tensor.Ones([3, 5])).Shape.Should().Equal(2, 5);
    }
}
