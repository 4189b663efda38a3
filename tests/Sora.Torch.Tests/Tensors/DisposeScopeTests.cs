namespace Sora.Torch.Tests.Tensors;

public class DisposeScopeTests
{
    [Fact]
    public void Tensors_created_inside_a_scope_are_disposed_when_it_ends()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor a, b;
        using (var inner = Tensor.NewDisposeScope())
        {
            DisposeScope.Current.Should().BeSameAs(inner);
            a = Tensor.Ones([2]);
            b = a + 1;
            inner.Count.Should().Be(2);
            a.IsDisposed.Should().BeFalse();
        }

        a.IsDisposed.Should().BeTrue();
        b.IsDisposed.Should().BeTrue();
        b.ToString().Should().Be("Tensor(disposed)");
        DisposeScope.Current.Should().BeSameAs(scope);
    }

    [Fact]
    public void Nested_scopes_own_what_was_created_while_they_were_innermost()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor outerTensor, innerTensor;
        using (var outer = Tensor.NewDisposeScope())
        {
            outerTensor = Tensor.Ones([1]);
            using (var inner = Tensor.NewDisposeScope())
            {
                innerTensor = outerTensor * 2;
                inner.Count.Should().Be(1);
            }

            innerTensor.IsDisposed.Should().BeTrue();
            outerTensor.IsDisposed.Should().BeFalse();
            outer.Count.Should().Be(1);
        }

        outerTensor.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void MoveToOuter_hands_a_tensor_to_the_enclosing_scope()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor kept, viaTensor, dropped;
        using (var outer = Tensor.NewDisposeScope())
        {
            using (var inner = Tensor.NewDisposeScope())
            {
                kept = inner.MoveToOuter(Tensor.Ones([1]));
                viaTensor = Tensor.Ones([1]).MoveToOuterDisposeScope();
                dropped = Tensor.Ones([1]);
                inner.Count.Should().Be(1);
                outer.Count.Should().Be(2);
            }

            kept.IsDisposed.Should().BeFalse();
            viaTensor.IsDisposed.Should().BeFalse();
            dropped.IsDisposed.Should().BeTrue();
            (kept + viaTensor).ToArray<float>().Should().Equal(2);
        }

        kept.IsDisposed.Should().BeTrue("the outer scope owned it and has ended");
        viaTensor.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void MoveToOuter_of_several_tensors_moves_each()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor a, b;
        using (var inner = Tensor.NewDisposeScope())
        {
            a = Tensor.Ones([1]);
            b = Tensor.Zeros([1]);
            inner.MoveToOuter(a, b);
            inner.Count.Should().Be(0);
        }

        a.IsDisposed.Should().BeFalse();
        b.IsDisposed.Should().BeFalse();
    }

    [Fact]
    public void DetachFromDisposeScope_leaves_the_tensor_to_the_caller()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor detached;
        using (var inner = Tensor.NewDisposeScope())
        {
            detached = Tensor.Ones([3]).DetachFromDisposeScope();
            inner.Count.Should().Be(0);
        }

        scope.Count.Should().Be(0, "a detached tensor is not handed to any scope");
        detached.IsDisposed.Should().BeFalse();
        detached.ToArray<float>().Should().Equal(1, 1, 1);
        detached.Dispose();
        detached.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void Include_takes_a_tensor_from_another_scope()
    {
        using var scope = Tensor.NewDisposeScope();
        var tensor = Tensor.Ones([1]);
        using (var inner = Tensor.NewDisposeScope())
        {
            inner.Include(tensor).Should().BeSameAs(tensor);
            scope.Count.Should().Be(0);
        }

        tensor.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void A_tensor_disposed_early_leaves_its_scope()
    {
        using var scope = Tensor.NewDisposeScope();
        using var inner = Tensor.NewDisposeScope();
        var tensor = Tensor.Ones([1]);
        inner.Count.Should().Be(1);
        tensor.Dispose();
        tensor.Dispose();
        inner.Count.Should().Be(0);
    }

    [Fact]
    public void Scopes_disposed_out_of_order_throw_and_can_then_be_closed_in_order()
    {
        using var scope = Tensor.NewDisposeScope();
        var outer = Tensor.NewDisposeScope();
        var inner = Tensor.NewDisposeScope();
        var tensor = Tensor.Ones([1]);
        try
        {
            var act = outer.Dispose;
            act.Should().Throw<InvalidOperationException>().WithMessage("*reverse order*");
            DisposeScope.Current.Should().BeSameAs(inner, "a refused dispose changes nothing");
            tensor.IsDisposed.Should().BeFalse();
        }
        finally
        {
            inner.Dispose();
            outer.Dispose();
        }

        tensor.IsDisposed.Should().BeTrue();
        DisposeScope.Current.Should().BeSameAs(scope);
        outer.Dispose();
    }

    [Fact]
    public void A_scope_belongs_to_the_thread_that_opened_it()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor? createdElsewhere = null;
        Exception? disposeElsewhere = null;
        var thread = new Thread(() =>
        {
            createdElsewhere = Tensor.Ones([1]);
            try
            {
                scope.Dispose();
            }
            catch (InvalidOperationException e)
            {
                disposeElsewhere = e;
            }
        });
        thread.Start();
        thread.Join();

        disposeElsewhere.Should().NotBeNull();
        disposeElsewhere!.Message.Should().Contain("thread that opened it");
        scope.Count.Should().Be(0, "tensors made on another thread do not join this thread's scope");
        using var owned = createdElsewhere!;
        owned.IsDisposed.Should().BeFalse();
    }

    [Fact]
    public void MoveToOuter_refuses_a_tensor_the_scope_does_not_own()
    {
        using var outer = Tensor.NewDisposeScope();
        var ownedByOuter = Tensor.Ones([1]);
        using var inner = Tensor.NewDisposeScope();
        var act = () => inner.MoveToOuter(ownedByOuter);
        act.Should().Throw<InvalidOperationException>().WithMessage("*another dispose scope*");
        ownedByOuter.IsDisposed.Should().BeFalse();
    }
}
