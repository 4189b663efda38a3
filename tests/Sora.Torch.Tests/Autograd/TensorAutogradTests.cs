using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Autograd;

public class TensorAutogradTests
{
    [Fact]
    public void Backward_of_a_non_scalar_output_takes_the_output_gradient()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3], 3).RequiresGrad_();
        var y = x * x;
        y.Backward(Float64([1, 0.5, 2], 3));
        x.Grad()!.ShouldApproximate([3], [2, 2, 12]);
    }

    [Fact]
    public void Backward_without_a_gradient_needs_a_one_element_output()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3], 3).RequiresGrad_();
        NativeFailure.ShouldFailWith(() => (x * 2).Backward(), "grad can be implicitly created only for scalar outputs");

        (x * 2).Sum().Backward();
        x.Grad()!.ShouldApproximate([2, 2, 2]);
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([3, 3]);
        (x * x).Sum().Backward();
        x.Grad()!.ShouldApproximate([3 + 2, 3 + 4]);
    }

    [Fact]
    public void SetGrad_null_clears_the_gradient_and_a_tensor_replaces_it()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        x.Grad().Should().BeNull("nothing has been backpropagated yet");

        (x * 3).Sum().Backward();
        x.SetGrad(null);
        x.Grad().Should().BeNull();

        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([3, 3], because: "a cleared gradient starts again from zero");

        x.SetGrad(Float64([10, 20], 2));
        x.Grad()!.ShouldApproximate([10, 20]);
        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([13, 23]);
    }

    [Fact]
    public void Grad_returns_a_handle_that_shares_the_stored_gradient()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        (x * 3).Sum().Backward();
        var grad = x.Grad()!;
        grad.Zero_();
        x.Grad()!.ShouldApproximate([0, 0]);
        grad.Dispose();
        x.Grad().Should().NotBeNull("disposing a handle to the gradient does not clear it");
    }

    [Fact]
    public void Detach_cuts_the_graph_but_shares_storage()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var y = x * 2;
        var detached = y.Detach();
        detached.RequiresGrad.Should().BeFalse();
        detached.SharesStorageWith(y).Should().BeTrue();

        // Through y this would be d(2x·x)/dx = 4x; the detached copy is a constant.
        (detached * x).Sum().Backward();
        x.Grad()!.ShouldApproximate([2, 4]);
    }

    [Fact]
    public void Detach_in_place_turns_a_result_into_a_leaf()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var y = x * 2;
        y.IsLeaf.Should().BeFalse();
        y.Detach_().Should().BeSameAs(y);
        y.RequiresGrad.Should().BeFalse();
        y.IsLeaf.Should().BeTrue();
    }

    [Fact]
    public void Results_of_recorded_ops_require_grad_and_are_not_leaves()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2);
        x.RequiresGrad.Should().BeFalse();
        x.IsLeaf.Should().BeTrue();
        (x * 2).RequiresGrad.Should().BeFalse();

        x.RequiresGrad = true;
        var y = x * 2;
        y.RequiresGrad.Should().BeTrue();
        y.IsLeaf.Should().BeFalse();
        (y + Float64([1, 1], 2)).RequiresGrad.Should().BeTrue();
    }

    [Fact]
    public void Only_floating_tensors_can_require_grad()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Int64([1, 2], 2);
        NativeFailure.ShouldFailWith(() => x.RequiresGrad_(), "Only Tensors of floating point and complex dtype can require gradients");
        x.RequiresGrad.Should().BeFalse();
    }

    [Fact]
    public void A_second_backward_through_a_graph_needs_retain_graph()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([0, 1], 2).RequiresGrad_();
        var z = x.Exp().Sum();
        z.Backward(retainGraph: true);
        z.Backward();
        x.Grad()!.ShouldApproximate([2, 2 * Math.E]);

        NativeFailure.ShouldFailWith(() => z.Backward(), "Trying to backward through the graph a second time");
    }

    [Fact]
    public void Create_graph_records_the_backward_pass_for_higher_derivatives()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([2], 1).RequiresGrad_();
        x.Pow(3).Sum().Backward(createGraph: true);
        var firstDerivative = x.Grad()!;
        firstDerivative.ShouldApproximate([12]);
        firstDerivative.RequiresGrad.Should().BeTrue();

        var detachedFirst = firstDerivative.Detach().Clone();
        x.SetGrad(null);
        firstDerivative.Sum().Backward();
        x.Grad()!.ShouldApproximate([12], because: "d(3x²)/dx = 6x = 12 at x = 2");
        detachedFirst.ShouldApproximate([12]);
    }

    [Fact]
    public void In_place_ops_on_a_leaf_that_requires_grad_are_refused_unless_grad_is_off()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        NativeFailure.ShouldFailWith(() => x.Add_(1), "a leaf Variable that requires grad is being used in an in-place operation");
        using (Tensor.NoGrad())
        {
            x.Add_(1);
        }

        x.ShouldApproximate([2, 3]);
    }

    [Fact]
    public void Modifying_a_value_saved_for_backward_is_detected()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var y = x.Exp();
        var loss = y.Sum();
        y.Add_(1);
        NativeFailure.ShouldFailWith(() => loss.Backward(), "one of the variables needed for gradient computation has been modified by an inplace operation");
    }

    [Fact]
    public void An_output_gradient_of_the_wrong_shape_is_refused()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3], 3).RequiresGrad_();
        NativeFailure.ShouldFailWith(() => (x * 2).Backward(Float64([1, 1], 2)), "invalid gradient at index 0 - got [2] but expected shape compatible with [3]");
    }

    [Fact]
    public void SetGrad_refuses_a_gradient_that_does_not_match_the_tensor()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        NativeFailure.ShouldFailWith(() => x.SetGrad(Tensor.Ones([2, 2], ScalarType.Float64)), "assigned grad has data of a different size");
        NativeFailure.ShouldFailWith(() => x.SetGrad(Tensor.Ones([2], ScalarType.Float32)), "assigned grad has data of a different type");
        x.Grad().Should().BeNull("a refused gradient is not stored");

        x.SetGrad(Float64([1, 1], 2));
        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([2], [4, 4]);
    }
}
