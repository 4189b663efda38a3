using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Runtime;

[Collection(GlobalRandomCollection.Name)]
public class RandomStateTests
{
    [Fact]
    public void Restoring_the_generator_state_replays_the_same_numbers()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(123);
        _ = Tensor.Randn([10]);
        var state = RandomState.GetState();
        var first = Tensor.Randn([100]).ToArray<float>();
        var firstInts = Tensor.RandInt(0, 1000, [10]).ToArray<long>();

        _ = Tensor.Rand([1000]);
        RandomState.SetState(state);
        Tensor.Randn([100]).ToArray<float>().Should().Equal(first);
        Tensor.RandInt(0, 1000, [10]).ToArray<long>().Should().Equal(firstInts);
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers_and_another_seed_does_not()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(5);
        var a = Tensor.Rand([50]).ToArray<float>();
        RandomState.ManualSeed(5);
        Tensor.Rand([50]).ToArray<float>().Should().Equal(a);
        RandomState.ManualSeed(6);
        Tensor.Rand([50]).ToArray<float>().Should().NotEqual(a);
    }

    [Fact]
    public void A_corrupt_generator_state_is_rejected_with_libtorch_message()
    {
        var act = () => RandomState.SetState(new byte[7]);
        act.Should().Throw<TorchException>().Which.Message.Should().NotBeNullOrWhiteSpace();
    }
}

