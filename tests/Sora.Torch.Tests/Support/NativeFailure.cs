namespace Sora.Torch.Tests.Support;

/// <summary>Checks that a failing native call surfaces as a <see cref="TorchException"/> and leaves libtorch usable.</summary>
internal static class NativeFailure
{
    /// <summary>
    /// Asserts that <paramref name="call"/> throws a TorchException whose message contains libtorch's
    /// explanation, then that ordinary calls still succeed and no error is left pending.
    /// </summary>
    public static TorchException ShouldFailWith(Action call, string explanation)
    {
        var error = call.Should().Throw<TorchException>().Which;
        error.Message.Should().Contain(explanation);
        ShouldStillWork();
        return error;
    }

    /// <summary>A following op succeeds, and a call that reports "no result" without an error does not see a stale one.</summary>
    public static void ShouldStillWork()
    {
        using var scope = Tensor.NewDisposeScope();
        (Tensor.Ones([2]) + 1).ToArray<float>().Should().Equal(2, 2);
        Tensor.Ones([1]).RequiresGrad_().Grad().Should().BeNull();
    }
}
