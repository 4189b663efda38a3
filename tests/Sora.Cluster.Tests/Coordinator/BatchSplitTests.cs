using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Tests.Coordinator;

public sealed class BatchSplitTests
{
    private static readonly (string Key, int Size)[] Batches = [("vae.train.batch_size", 4), ("train.batch_size", 12)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_world_size_that_divides_every_batch_is_admitted(int world) => BatchSplit.Refusal(Batches, world).Should().BeNull();

    [Fact]
    public void The_refusal_names_the_first_key_that_does_not_split_its_batch_and_the_world_size()
    {
        BatchSplit.Refusal(Batches, 3).Should().Be("vae.train.batch_size (4) must be a multiple of the world size (3): each rank trains on an equal share of every global batch");
        BatchSplit.Refusal([("vae.train.batch_size", 6), ("train.batch_size", 8)], 3).Should().StartWith("train.batch_size (8) must be a multiple of the world size (3)");
    }

    [Fact]
    public void A_launch_is_refused_only_when_no_node_count_in_its_range_gives_an_admissible_world()
    {
        FluentActions.Invoking(() => BatchSplit.CheckLaunch(Batches, 1, 1, 3)).Should().Throw<ArgumentException>()
            .WithMessage("vae.train.batch_size (4) must be a multiple of the world size (3): *");
        FluentActions.Invoking(() => BatchSplit.CheckLaunch(Batches, 1, 2, 3)).Should().Throw<ArgumentException>()
            .WithMessage("*world size (3)*; *world size (6)*");
        BatchSplit.CheckLaunch(Batches, 3, 4, 1); // 4 ranks on 4 nodes divide both
        FluentActions.Invoking(() => BatchSplit.CheckLaunch(Batches, 1, 1, 0)).Should().Throw<ArgumentException>().WithMessage("--nproc-per-node must be >= 1 (got 0)");
    }
}
