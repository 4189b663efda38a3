using Sora.Torch.NN;
using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void Using_a_disposed_tensor_throws_ObjectDisposedException()
    {
        using var scope = Tensor.NewDisposeScope();
        var disposed = Tensor.Ones([2, 3]);
        _ = disposed.Shape;
        disposed.Dispose();
        var live = Tensor.Ones([2, 3]);

        disposed.IsDisposed.Should().BeTrue();
        disposed.Invoking(t => t.Add(1)).Should().Throw<ObjectDisposedException>();
        disposed.Invoking(t => t.Shape).Should().Throw<ObjectDisposedException>("a cached shape must not make a disposed tensor look alive");
        disposed.Invoking(t => t.Size(0)).Should().Throw<ObjectDisposedException>();
        disposed.Invoking(t => t.ToArray<float>()).Should().Throw<ObjectDisposedException>();
        live.Invoking(t => t.Add(disposed)).Should().Throw<ObjectDisposedException>();
        live.Invoking(t => Tensor.Cat([t, disposed])).Should().Throw<ObjectDisposedException>();
        live.Invoking(t => Functional.Linear(t, Tensor.Ones([4, 3]), disposed)).Should().Throw<ObjectDisposedException>();
        disposed.Dispose();
        NativeFailure.ShouldStillWork();
    }

    [Fact]
    public void An_alias_outlives_the_handle_it_was_made_from()
    {
        using var scope = Tensor.NewDisposeScope();
        var original = Tensor.FromArray(new float[] { 1, 2 });
        var alias = original.Alias();
        alias.SharesStorageWith(original).Should().BeTrue();
        original.Dispose();
        alias.ToArray<float>().Should().Equal(1, 2);
    }

    [Fact]
    public void Size_counts_negative_dims_from_the_end()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Zeros([2, 3, 4]);
        x.Size(-1).Should().Be(4);
        x.Size(0).Should().Be(2);
        x.Dim.Should().Be(3);
        x.NumElements.Should().Be(24);
        x.ByteCount.Should().Be(96);
        x.Invoking(t => t.Size(3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Changing_a_returned_shape_array_does_not_change_the_tensor()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Zeros([2, 3]);
        var shape = x.Shape;
        shape[0] = 99;
        x.Shape.Should().Equal(2, 3);
        x.Size(0).Should().Be(2);
    }

    [Fact]
    public void Storage_sharing_tells_views_from_copies_even_for_empty_tensors()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Zeros([2, 3]);
        x.SharesStorageWith(x.Narrow(1, 1, 2)).Should().BeTrue();
        x.SharesStorageWith(x.Clone()).Should().BeFalse();

        var empty = Tensor.Zeros([0]);
        empty.SharesStorageWith(empty.Reshape(0, 1)).Should().BeTrue();
        empty.SharesStorageWith(Tensor.Zeros([0])).Should().BeFalse("two separately created tensors never share storage");
    }
}
