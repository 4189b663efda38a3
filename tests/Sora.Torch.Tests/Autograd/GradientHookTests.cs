using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Autograd;

public class GradientHookTests
{
    [Fact]
    public void A_hook_can_replace_the_gradient()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        using var hook = x.RegisterHook(g => g * 2);
        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([6, 6]);
    }

    [Fact]
    public void A_hook_sees_the_incoming_gradient_and_returning_null_keeps_it()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        double[]? seen = null;
        using var hook = x.RegisterHook(g =>
        {
            seen = g.ToArray<double>();
            return null;
        });
        (x * x).Sum().Backward();
        seen.Should().Equal(2, 4);
        x.Grad()!.ShouldApproximate([2, 4]);
    }

    [Fact]
    public void A_hook_on_an_intermediate_result_changes_what_reaches_the_leaves()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var y = x * 3;
        using var hook = y.RegisterHook(g => g * 10);
        (y * y).Sum().Backward();
        // dL/dy = 2y = [6, 12], scaled by 10, then times dy/dx = 3.
        x.Grad()!.ShouldApproximate([180, 360]);
    }

    [Fact]
    public void A_disposed_hook_no_longer_fires()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var calls = 0;
        var hook = x.RegisterHook(g =>
        {
            calls++;
            return g * 2;
        });
        (x * 1).Sum().Backward();
        calls.Should().Be(1);

        hook.Dispose();
        hook.Dispose();
        x.SetGrad(null);
        (x * 1).Sum().Backward();
        calls.Should().Be(1);
        x.Grad()!.ShouldApproximate([1, 1]);
    }

    [Fact]
    public void Hooks_need_a_tensor_that_requires_grad()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1], 1);
        var error = NativeFailure.ShouldFailWith(() => x.RegisterHook(g => g), "does not require grad");
        error.Kind.Should().Be(TorchErrorKind.Argument);
        NativeFailure.ShouldFailWith(() => x.RegisterPostAccumulateGradHook(_ => { }), "need a leaf tensor that requires grad");
        NativeFailure.ShouldFailWith(() => (Float64([1], 1).RequiresGrad_() * 2).RegisterPostAccumulateGradHook(_ => { }), "need a leaf tensor");
    }

    [Fact]
    public void A_post_accumulate_hook_fires_once_per_backward_after_the_gradient_is_accumulated()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var w = Float64([3], 1).RequiresGrad_();
        var seenByX = new List<double[]>();
        var seenByW = new List<double[]>();
        using var xHook = x.RegisterPostAccumulateGradHook(p => seenByX.Add(p.Grad()!.ToArray<double>()));
        using var wHook = w.RegisterPostAccumulateGradHook(p => seenByW.Add(p.Grad()!.ToArray<double>()));

        // x feeds the loss along two paths; its hook still fires once, with the summed gradient.
        Tensor Loss() => ((x * w) + (x * x)).Sum();

        Loss().Backward();
        seenByX.Should().HaveCount(1);
        seenByX[0].Should().Equal(3 + 2, 3 + 4);
        seenByW.Should().HaveCount(1);
        seenByW[0].Should().Equal(3);

        Loss().Backward();
        seenByX.Should().HaveCount(2);
        seenByX[1].Should().Equal(10, 14);
        seenByW.Should().HaveCount(2);
        seenByW[1].Should().Equal(6);
    }

    [Fact]
    public void A_post_accumulate_hook_receives_the_leaf_itself()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        bool? sameStorage = null;
        using var hook = x.RegisterPostAccumulateGradHook(p => sameStorage = p.SharesStorageWith(x) && p.IsLeaf);
        (x * 2).Sum().Backward();
        sameStorage.Should().BeTrue();
    }

    [Fact]
    public void A_disposed_post_accumulate_hook_no_longer_fires()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var calls = 0;
        var hook = x.RegisterPostAccumulateGradHook(_ => calls++);
        (x * 2).Sum().Backward();
        calls.Should().Be(1);

        hook.Dispose();
        (x * 2).Sum().Backward();
        calls.Should().Be(1);
        x.Grad()!.ShouldApproximate([4, 4], because: "backward still accumulates without the hook");
    }

    [Fact]
    public void An_exception_in_a_gradient_hook_comes_back_from_backward_and_backward_works_afterwards()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var failure = new InvalidOperationException("hook refused the gradient");
        var fail = true;
        using var hook = x.RegisterHook(g => fail ? throw failure : g);

        var error = ((Action)(() => (x * 3).Sum().Backward())).Should().Throw<TorchException>().Which;
        error.Kind.Should().Be(TorchErrorKind.Callback);
        error.InnerException.Should().BeSameAs(failure);
        error.Message.Should().Be("InvalidOperationException: hook refused the gradient", "the managed exception's type and message, once");
        fail = false;
        BackwardWorksAgain(x);
    }

    [Fact]
    public void An_exception_in_a_post_accumulate_hook_comes_back_from_backward_and_backward_works_afterwards()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        var failure = new InvalidOperationException("reducer failed");
        var fail = true;
        using var hook = x.RegisterPostAccumulateGradHook(_ =>
        {
            if (fail)
            {
                throw failure;
            }
        });

        var error = ((Action)(() => (x * 3).Sum().Backward())).Should().Throw<TorchException>().Which;
        error.Kind.Should().Be(TorchErrorKind.Callback);
        error.InnerException.Should().BeSameAs(failure);
        fail = false;
        BackwardWorksAgain(x);
    }

    [Fact]
    public void An_unrelated_error_after_a_hook_failure_is_not_reported_as_a_callback_error()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        using (x.RegisterHook(_ => throw new InvalidOperationException("boom")))
        {
            ((Action)(() => (x * 3).Sum().Backward())).Should().Throw<TorchException>().Which.Kind.Should().Be(TorchErrorKind.Callback);
        }

        var error = NativeFailure.ShouldFailWith(() => Tensor.Ones([2, 3]).Mm(Tensor.Ones([2, 3])), "mat1 and mat2 shapes cannot be multiplied");
        error.Kind.Should().Be(TorchErrorKind.Torch);
        error.InnerException.Should().BeNull();
    }

    [Fact]
    public void A_post_accumulate_hook_sees_the_gradient_after_tensor_hooks_changed_it()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        double[]? seen = null;
        using var doubling = x.RegisterHook(g => g * 2);
        using var post = x.RegisterPostAccumulateGradHook(p => seen = p.Grad()!.ToArray<double>());
        (x * 3).Sum().Backward();
        seen.Should().Equal(6, 6);
    }

    [Fact]
    public void A_replacement_gradient_of_the_wrong_shape_is_refused()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2).RequiresGrad_();
        using var hook = x.RegisterHook(_ => Tensor.Ones([3], ScalarType.Float64));
        var error = NativeFailure.ShouldFailWith(() => (x * 3).Sum().Backward(), "has changed the size of value");
        error.Kind.Should().NotBe(TorchErrorKind.Callback, "the hook itself returned normally");
        error.InnerException.Should().BeNull();
    }

    // After a hook failed: the native side still works and a clean backward accumulates the right gradient.
    private static void BackwardWorksAgain(Tensor x)
    {
        NativeFailure.ShouldStillWork();
        x.SetGrad(null);
        (x * 3).Sum().Backward();
        x.Grad()!.ShouldApproximate([3, 3]);
    }
}
