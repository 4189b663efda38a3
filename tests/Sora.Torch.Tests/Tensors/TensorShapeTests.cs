using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Tensors;

public class TensorShapeTests
{
    private static readonly GradCase[] GradCases =
    [
        new("reshape", () => [Uniform([2, 3], 1)], x => x[0].Reshape(3, 2)),
        new("reshape inferred", () => [Uniform([2, 3], 1)], x => x[0].Reshape(-1)),
        new("reshape of transposed", () => [Uniform([2, 3], 1)], x => x[0].T().Reshape(6)),
        new("view", () => [Uniform([2, 3], 1)], x => x[0].View(3, 1, 2)),
        new("permute", () => [Uniform([2, 3, 2], 1)], x => x[0].Permute(2, 0, 1)),
        new("transpose", () => [Uniform([2, 3, 2], 1)], x => x[0].Transpose(0, 1)),
        new("contiguous", () => [Uniform([2, 3], 1)], x => x[0].T().Contiguous()),
        new("narrow", () => [Uniform([3, 4], 1)], x => x[0].Narrow(1, 1, 2)),
        new("select", () => [Uniform([3, 4], 1)], x => x[0].Select(0, 1)),
        new("select negative", () => [Uniform([3, 4], 1)], x => x[0].Select(-1, -2)),
        new("index_select", () => [Uniform([3, 4], 1)], x => x[0].IndexSelect(0, Int64([2, 0, 2], 3))),
        new("gather", () => [Uniform([2, 3], 1)], x => x[0].Gather(1, Int64([2, 0, 1, 1], 2, 2))),
        new("scatter", () => [Uniform([2, 3], 1), Uniform([2, 2], 2)], x => x[0].Scatter(1, Int64([2, 0, 1, 2], 2, 2), x[1])),
        new("scatter_add", () => [Uniform([2, 3], 1), Uniform([2, 2], 2)], x => x[0].ScatterAdd(1, Int64([2, 2, 0, 0], 2, 2), x[1])),
        new("cat", () => [Uniform([2, 3], 1), Uniform([1, 3], 2)], x => Tensor.Cat([x[0], x[1]])),
        new("cat dim 1", () => [Uniform([2, 3], 1), Uniform([2, 1], 2)], x => Tensor.Cat([x[0], x[1], x[0]], 1)),
        new("stack", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => Tensor.Stack([x[0], x[1]], 1)),
        new("chunk", () => [Uniform([5, 2], 1)], x => Tensor.Cat(x[0].Chunk(3))),
        new("split", () => [Uniform([2, 5], 1)], x => Tensor.Cat(x[0].Split([1, 3, 1], 1), 1)),
        new("flatten", () => [Uniform([2, 3, 2], 1)], x => x[0].Flatten()),
        new("flatten range", () => [Uniform([2, 3, 2], 1)], x => x[0].Flatten(1, 2)),
        new("unflatten", () => [Uniform([2, 6], 1)], x => x[0].Unflatten(1, 3, 2)),
        new("expand", () => [Uniform([3, 1], 1)], x => x[0].Expand(2, 3, 4)),
        new("expand keep", () => [Uniform([1, 3], 1)], x => x[0].Expand(4, -1)),
        new("repeat", () => [Uniform([2, 3], 1)], x => x[0].Repeat(2, 1, 2)),
        new("pad constant", () => [Uniform([2, 3], 1)], x => x[0].Pad([1, 2, 0, 1], PaddingMode.Constant, 0.5)),
        new("pad replicate", () => [Uniform([1, 2, 3], 1)], x => x[0].Pad([2, 1], PaddingMode.Replicate)),
        new("pad replicate 2d", () => [Uniform([1, 1, 2, 3], 1)], x => x[0].Pad([1, 1, 2, 0], PaddingMode.Replicate)),
        new("pad reflect", () => [Uniform([1, 2, 4], 1)], x => x[0].Pad([2, 1], PaddingMode.Reflect)),
        new("pad reflect 2d", () => [Uniform([1, 1, 3, 3], 1)], x => x[0].Pad([1, 2, 2, 1], PaddingMode.Reflect)),
        new("pad circular", () => [Uniform([1, 2, 4], 1)], x => x[0].Pad([1, 2], PaddingMode.Circular)),
        new("squeeze", () => [Uniform([2, 1, 3], 1)], x => x[0].Squeeze(1)),
        new("unsqueeze", () => [Uniform([2, 3], 1)], x => x[0].Unsqueeze(-1)),
        new("tril", () => [Uniform([3, 3], 1)], x => x[0].Tril()),
        new("triu offset", () => [Uniform([3, 4], 1)], x => x[0].Triu(1)),
        new("flip", () => [Uniform([2, 3], 1)], x => x[0].Flip(0, 1)),
        new("roll", () => [Uniform([2, 3], 1)], x => x[0].Roll([1, -1], [0, 1])),
        new("cumsum", () => [Uniform([2, 3], 1)], x => x[0].Cumsum(1)),
        new("block_diag", () => [Uniform([2, 2], 1), Uniform([1, 3], 2)], x => Tensor.BlockDiag([x[0], x[1]])),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Reshape_view_and_flatten_keep_row_major_order()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6], 2, 3);
        var view = x.View(3, 2);
        view.ShouldApproximate([3, 2], [1, 2, 3, 4, 5, 6]);
        view.SharesStorageWith(x).Should().BeTrue();
        x.Reshape(-1, 2).Shape.Should().Equal(3, 2);
        x.Flatten().ShouldApproximate([6], [1, 2, 3, 4, 5, 6]);
        Tensor.Zeros([2, 3, 4]).Flatten(0, 1).Shape.Should().Equal(6, 4);
        x.Unflatten(1, 3, 1).Shape.Should().Equal(2, 3, 1);
        x.Flatten().Unflatten(0, 2, -1).ShouldApproximate([2, 3], [1, 2, 3, 4, 5, 6]);

        var transposedCopy = x.T().Reshape(6);
        transposedCopy.ShouldApproximate([6], [1, 4, 2, 5, 3, 6]);
    }

    [Fact]
    public void Permute_and_transpose_make_strided_views()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6], 2, 3);
        var t = x.T();
        t.Shape.Should().Equal(3, 2);
        t.IsContiguous.Should().BeFalse();
        t.Strides.Should().Equal(1, 3);
        t.ShouldApproximate([1, 4, 2, 5, 3, 6]);

        var contiguous = t.Contiguous();
        contiguous.IsContiguous.Should().BeTrue();
        contiguous.SharesStorageWith(x).Should().BeFalse();
        contiguous.ShouldApproximate([1, 4, 2, 5, 3, 6]);

        Tensor.Zeros([2, 3, 4]).Permute(2, 0, 1).Shape.Should().Equal(4, 2, 3);
        Tensor.Zeros([2, 3, 4]).Transpose(0, -1).Shape.Should().Equal(4, 3, 2);
    }

    [Fact]
    public void Narrow_and_select_are_views_of_part_of_a_dim()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);
        var narrow = x.Narrow(1, 1, 2);
        narrow.ShouldApproximate([3, 2], [2, 3, 5, 6, 8, 9]);
        narrow.SharesStorageWith(x).Should().BeTrue();
        x.Narrow(0, 2, 1).ShouldApproximate([1, 3], [7, 8, 9]);

        x.Select(0, 1).ShouldApproximate([3], [4, 5, 6]);
        x.Select(1, -1).ShouldApproximate([3], [3, 6, 9]);
    }

    [Fact]
    public void Index_select_gather_and_scatter_move_elements_by_index()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6], 2, 3);
        x.IndexSelect(1, Int64([2, 0], 2)).ShouldApproximate([2, 2], [3, 1, 6, 4]);
        x.IndexSelect(0, Int64([1, 1, 0], 3)).ShouldApproximate([3, 3], [4, 5, 6, 4, 5, 6, 1, 2, 3]);
        x.Gather(1, Int64([2, 2, 0, 1], 2, 2)).ShouldApproximate([2, 2], [3, 3, 4, 5]);

        var zeros = Tensor.Zeros([2, 3], ScalarType.Float64);
        zeros.Scatter(1, Int64([2, 0, 1, 2], 2, 2), Float64([10, 20, 30, 40], 2, 2))
            .ShouldApproximate([2, 3], [20, 0, 10, 0, 30, 40]);
        zeros.ShouldApproximate([0, 0, 0, 0, 0, 0], because: "scatter returns a copy");
        zeros.ScatterAdd(1, Int64([0, 0, 2, 2], 2, 2), Float64([1, 2, 3, 4], 2, 2))
            .ShouldApproximate([2, 3], [3, 0, 0, 0, 0, 7]);
    }

    [Fact]
    public void Cat_and_stack_join_tensors()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3, 4], 2, 2);
        var b = Float64([5, 6], 1, 2);
        Tensor.Cat([a, b]).ShouldApproximate([3, 2], [1, 2, 3, 4, 5, 6]);
        Tensor.Cat([a, b.T()], 1).ShouldApproximate([2, 3], [1, 2, 5, 3, 4, 6]);
        Tensor.Stack([a, a]).Shape.Should().Equal(2, 2, 2);
        Tensor.Stack([Float64([1, 2], 2), Float64([3, 4], 2)], 1).ShouldApproximate([2, 2], [1, 3, 2, 4]);
        Tensor.Stack([Float64([1, 2], 2), Float64([3, 4], 2)], -1).ShouldApproximate([2, 2], [1, 3, 2, 4]);
    }

    [Fact]
    public void Chunk_splits_into_nearly_equal_pieces_and_split_into_given_sizes()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([0, 1, 2, 3, 4], 5);

        var halves = x.Chunk(2);
        halves.Should().HaveCount(2);
        halves[0].ShouldApproximate([3], [0, 1, 2]);
        halves[1].ShouldApproximate([2], [3, 4]);

        x.Chunk(3).Select(p => p.Size(0)).Should().Equal(2, 2, 1);
        Tensor.Zeros([6]).Chunk(4).Select(p => p.Size(0)).Should().Equal([2L, 2, 2], "torch makes fewer pieces when the size does not divide evenly");
        Tensor.Zeros([2, 7]).Chunk(2, 1).Select(p => p.Shape[1]).Should().Equal(4, 3);

        var pieces = x.Split([1, 4]);
        pieces.Should().HaveCount(2);
        pieces[0].ShouldApproximate([1], [0]);
        pieces[1].ShouldApproximate([4], [1, 2, 3, 4]);
        pieces[1].SharesStorageWith(x).Should().BeTrue();
    }

    [Fact]
    public void Expand_broadcasts_without_copying_and_repeat_copies()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2, 1);
        var expanded = x.Expand(2, 3);
        expanded.ShouldApproximate([2, 3], [1, 1, 1, 2, 2, 2]);
        expanded.SharesStorageWith(x).Should().BeTrue();
        expanded.Strides.Should().Equal(1, 0);
        x.Expand(3, -1, 2).Shape.Should().Equal(3, 2, 2);

        var repeated = Float64([1, 2], 2).Repeat(2, 2);
        repeated.ShouldApproximate([2, 4], [1, 2, 1, 2, 1, 2, 1, 2]);
        repeated.SharesStorageWith(x).Should().BeFalse();
    }

    [Fact]
    public void Pad_fills_borders_by_mode()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3], 1, 1, 3);
        x.Pad([1, 2]).ShouldApproximate([1, 1, 6], [0, 1, 2, 3, 0, 0]);
        x.Pad([1, 0], PaddingMode.Constant, -1).ShouldApproximate([1, 1, 4], [-1, 1, 2, 3]);
        x.Pad([2, 1], PaddingMode.Replicate).ShouldApproximate([1, 1, 6], [1, 1, 1, 2, 3, 3]);
        x.Pad([2, 1], PaddingMode.Reflect).ShouldApproximate([1, 1, 6], [3, 2, 1, 2, 3, 2]);
        x.Pad([1, 2], PaddingMode.Circular).ShouldApproximate([1, 1, 6], [3, 1, 2, 3, 1, 2]);
        Float64([1, 2, 3, 4], 2, 2).Pad([0, 0, 1, 0]).ShouldApproximate([3, 2], [0, 0, 1, 2, 3, 4]);
    }

    [Fact]
    public void Squeeze_and_unsqueeze_remove_and_add_unit_dims()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Zeros([2, 1, 3]);
        x.Squeeze(1).Shape.Should().Equal(2, 3);
        x.Squeeze(0).Shape.Should().Equal([2L, 1, 3], "a dim whose size is not 1 stays");
        x.Unsqueeze(0).Shape.Should().Equal(1, 2, 1, 3);
        x.Unsqueeze(-1).Shape.Should().Equal(2, 1, 3, 1);
    }

    [Fact]
    public void Tril_triu_flip_roll_and_cumsum_rearrange_values()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);
        x.Tril().ShouldApproximate([1, 0, 0, 4, 5, 0, 7, 8, 9]);
        x.Tril(-1).ShouldApproximate([0, 0, 0, 4, 0, 0, 7, 8, 0]);
        x.Triu().ShouldApproximate([1, 2, 3, 0, 5, 6, 0, 0, 9]);
        x.Triu(1).ShouldApproximate([0, 2, 3, 0, 0, 6, 0, 0, 0]);

        x.Flip(0).ShouldApproximate([7, 8, 9, 4, 5, 6, 1, 2, 3]);
        x.Flip(0, 1).ShouldApproximate([9, 8, 7, 6, 5, 4, 3, 2, 1]);

        x.Roll([1], [1]).ShouldApproximate([3, 1, 2, 6, 4, 5, 9, 7, 8]);
        x.Roll([-1, 1], [0, 1]).ShouldApproximate([6, 4, 5, 9, 7, 8, 3, 1, 2]);

        x.Cumsum(0).ShouldApproximate([1, 2, 3, 5, 7, 9, 12, 15, 18]);
        x.Cumsum(-1).ShouldApproximate([1, 3, 6, 4, 9, 15, 7, 15, 24]);
    }

    [Fact]
    public void Block_diag_places_blocks_on_the_diagonal()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor.BlockDiag([Float64([1, 2, 3, 4], 2, 2), Float64([5], 1, 1)])
            .ShouldApproximate([3, 3], [1, 2, 0, 3, 4, 0, 0, 0, 5]);
    }

    [Fact]
    public void Shape_errors_fail_with_libtorchs_explanation()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Ones([2, 3]);

        NativeFailure.ShouldFailWith(() => Tensor.Cat([x, Tensor.Ones([2, 4])]), "Sizes of tensors must match except in dimension 0");
        NativeFailure.ShouldFailWith(() => Tensor.Stack([x, Tensor.Ones([3, 2])]), "stack expects each tensor to be equal size");
        NativeFailure.ShouldFailWith(() => x.T().View(6), "view size is not compatible with input tensor's size and stride");
        NativeFailure.ShouldFailWith(() => x.Reshape(4), "shape '[4]' is invalid for input of size 6");
        NativeFailure.ShouldFailWith(() => x.Narrow(1, 2, 2), "exceeds dimension size");
        NativeFailure.ShouldFailWith(() => x.Expand(4, 3), "The expanded size of the tensor (4) must match the existing size (2)");
        NativeFailure.ShouldFailWith(() => x.Permute(0), "number of dimensions in the tensor input does not match the length of the desired ordering of dimensions");
        NativeFailure.ShouldFailWith(() => x.Split([1, 2]), "split_with_sizes expects split_sizes to sum exactly to 2");
        NativeFailure.ShouldFailWith(() => x.Gather(1, Int64([0, 5], 2, 1)), "out of bounds");

        NativeFailure.ShouldFailWith(() => Tensor.Cat([]), "expected a non-empty list of Tensors");
        NativeFailure.ShouldFailWith(() => x.Chunk(0), "chunk expects `chunks` to be greater than 0, got: 0");

        // Reading the contiguous transposed copy proves the failed view left x alone.
        x.T().Contiguous().View(6).Shape.Should().Equal(6);
    }

    [Fact]
    public void An_index_out_of_range_is_an_index_error()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4, 5, 6], 2, 3);

        var select = NativeFailure.ShouldFailWith(() => x.Select(0, 2), "select(): index 2 out of range for tensor of size [2, 3] at dimension 0");
        select.Kind.Should().Be(TorchErrorKind.Index);

        var dim = NativeFailure.ShouldFailWith(() => x.Transpose(0, 2), "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
        dim.Kind.Should().Be(TorchErrorKind.Index);

        NativeFailure.ShouldFailWith(() => x.IndexSelect(1, Int64([3], 1)), "INDICES element is out of DATA bounds, id=3 axis_dim=3");
        x.Select(1, 2).ShouldApproximate([3, 6]);
    }
}
