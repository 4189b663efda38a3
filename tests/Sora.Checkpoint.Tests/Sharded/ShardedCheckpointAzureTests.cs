using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Checkpoint.Tests.Stores;

namespace Sora.Checkpoint.Tests.Sharded;

/// <summary>The sharded format against a real Azurite: write on 2 ranks, load on 3, verify, prune.</summary>
public sealed class ShardedCheckpointAzureTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_two_rank_checkpoint_in_blob_storage_loads_on_three_ranks_and_prunes()
    {
        using var store = AzureBlobStore.FromConnectionString(fixture.Azurite.ConnectionString, "c" + Guid.NewGuid().ToString("N"),
            new AzureBlobStoreOptions { BlockSize = 64 << 10 });
        var layout = new CheckpointLayout("runs/a/checkpoints");
        var writer = new ShardedCheckpointWriter(store, layout);
        var reader = new ShardedCheckpointReader(store, layout);
        var model = new ShardedTestModel(seed: 21);
        await model.WriteWorldAsync(writer, step: 1, worldSize: 2);
        var manifest = await model.WriteWorldAsync(writer, step: 2, worldSize: 2);

        var assembled = model.Full.Keys.ToDictionary(k => k, _ => new List<byte>());
        for (var rank = 0; rank < 3; rank++)
        {
            using var loaded = await reader.LoadLatestValidAsync(manifest.Tensors.Select(t => TensorRequest.EvenShard(t, rank, 3)).ToList());
            loaded!.Step.Should().Be(2);
            loaded.Warnings.Should().BeEmpty();
            foreach (var (name, tensor) in loaded.Tensors)
            {
                assembled[name].AddRange(ShardedTestModel.BytesOf(tensor));
            }
        }

        foreach (var (name, bytes) in model.Full)
        {
            assembled[name].Should().Equal(bytes, name);
        }

        (await reader.VerifyAsync(manifest)).Should().BeEmpty();
        (await new CheckpointRetention(store, layout) { KeepLast = 1 }.PruneAsync()).Delete.Should().Equal(1);
        (await reader.ListStepsAsync()).Should().Equal(2);
        (await store.ExistsAsync(layout.Shard(1, 0, 2))).Should().BeFalse();
    }
}
