namespace Sora.Torch.Tests.Runtime;

[Collection(nameof(GlobalRandomState))]
public class RandomStateTests
{
    [Fact]
    public void Restoring_the_generator_state_replays_the_same_numbers()
    {
        using var scope = Torch.NewDisposeScope();
        RandomState.ManualSeed(123);
        _ = Torch.Randn([10]);
        var state = RandomState.GetState();
        var first = Torch.Randn([100]).ToArray<float>();
        var firstInts = Torch.RandInt(0, 1000, [10]).ToArray<long>();

        _ = Torch.Rand([1000]);
        RandomState.SetState(state);
        Torch.Randn([100]).ToArray<float>().Should().Equal(first);
        Torch.RandInt(0, 1000, [10]).ToArray<long>().Should().Equal(firstInts);
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers_and_another_seed_does_not()
    {
        using var scope = Torch.NewDisposeScope();
        RandomState.ManualSeed(5);
        var a = Torch.Rand([50]).ToArray<float>();
        RandomState.ManualSeed(5);
        Torch.Rand([50]).ToArray<float>().Should().Equal(a);
        RandomState.ManualSeed(6);
        Torch.Rand([50]).ToArray<float>().Should().NotEqual(a);
    }

    [Fact]
    public void A_corrupt_generator_state_is_rejected_with_libtorch_message()
    {
        var act = () => RandomState.SetState(new byte[7]);
        act.Should().Throw<TorchException>().Which.Message.Should().NotBeNullOrWhiteSpace();
    }
}

/// <summary>Tests that reseed the process-wide generator must not run in parallel with each other.</summary>
[CollectionDefinition(nameof(GlobalRandomState), DisableParallelization = true)]
public class GlobalRandomState;
