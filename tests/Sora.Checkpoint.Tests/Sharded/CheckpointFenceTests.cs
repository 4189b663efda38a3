using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Checkpoint.Tests.Stores;

namespace Sora.Checkpoint.Tests.Sharded;

/// <summary>
/// Round fencing of <c>latest</c> (<see cref="CheckpointFence"/> and <see cref="CheckpointCommitter.Round"/>), run against
/// every store: a writer of an ended round never moves <c>latest</c>, whether it reads the pointer before or after the fence.
/// </summary>
public abstract class CheckpointFenceTests
{
    private readonly ShardedTestModel _model = new(seed: 13);
    private ICheckpointStore? _store;

    private ICheckpointStore Store => _store ??= CreateStore();

    private CheckpointLayout Layout { get; } = new("runs/r/checkpoints");

    private ShardedCheckpointReader Reader => new(Store, Layout);

    private CheckpointFence Fence => new(Store, Layout);

    /// <summary>A fresh, empty store.</summary>
    protected abstract ICheckpointStore CreateStore();

    [Fact]
    public async Task A_stale_rounds_commit_is_refused_naming_both_rounds_and_the_step_and_latest_is_unchanged()
    {
        await Fence.AdvanceAsync(1);
        await CommitAsync(step: 1, round: 1);
        await Fence.AdvanceAsync(2);

        var stale = () => CommitAsync(step: 2, round: 1);

        var refused = (await stale.Should().ThrowAsync<StaleRoundException>()).Which;
        refused.WriterRound.Should().Be(1);
        refused.Step.Should().Be(2);
        refused.CurrentRound.Should().Be(2);
        refused.Message.Should().Contain("step 2").And.Contain("round 1").And.Contain("round 2").And.Contain(Layout.Latest).And.Contain(Store.Location);
        var latest = await Reader.ReadLatestAsync();
        latest!.Step.Should().Be(1);
        latest.Round.Should().Be(2);
        (await Store.ExistsAsync(Layout.Manifest(2))).Should().BeFalse("the stale writer is refused before it writes the manifest");
    }

    [Fact]
    public async Task A_commit_of_the_current_round_passes_and_carries_the_round()
    {
        await Fence.AdvanceAsync(1);
        await CommitAsync(step: 1, round: 1);
        await Fence.AdvanceAsync(2);

        await CommitAsync(step: 2, round: 2);

        var latest = await Reader.ReadLatestAsync();
        latest!.Step.Should().Be(2);
        latest.Round.Should().Be(2);
        using var loaded = await Reader.LoadLatestValidAsync([]);
        loaded!.Step.Should().Be(2);
    }

    [Fact]
    public async Task A_fence_on_an_empty_store_means_no_checkpoint_yet_until_the_first_commit()
    {
        var fenced = await Fence.AdvanceAsync(1);

        fenced.HasCheckpoint.Should().BeFalse();
        fenced.Round.Should().Be(1);
        (await Fence.ReadAsync())!.Round.Should().Be(1);
        (await Reader.ReadLatestAsync()).Should().BeNull("a fence is not a checkpoint");
        (await Reader.LoadLatestAsync([])).Should().BeNull();
        (await Reader.LoadLatestValidAsync([])).Should().BeNull();
        (await new CheckpointRetention(Store, Layout) { KeepLast = 1 }.PlanAsync()).Latest.Should().BeNull();
        var unfenced = () => CommitAsync(step: 1, round: 0);
        await unfenced.Should().ThrowAsync<StaleRoundException>("once fenced, an unfenced writer is of an older round");

        await CommitAsync(step: 1, round: 1);

        var latest = await Reader.ReadLatestAsync();
        latest!.Step.Should().Be(1);
        latest.Round.Should().Be(1);
    }

    [Fact]
    public async Task A_fence_between_a_stale_writers_read_and_its_put_makes_the_put_fail()
    {
        await Fence.AdvanceAsync(1);
        await CommitAsync(step: 1, round: 1);
        // The round-1 writer has read latest (and its ETag) when the coordinator fences round 2, just before its put.
        var racing = new FenceBeforeFirstPut(Store, Layout.Latest, () => Fence.AdvanceAsync(2));
        var stale = () => CommitAsync(step: 2, round: 1, racing);

        var refused = (await stale.Should().ThrowAsync<StaleRoundException>()).Which;
        racing.Fenced.Should().BeTrue("the fence ran between the writer's read and its put");
        refused.InnerException.Should().BeOfType<PreconditionFailedException>("the put failed its If-Match");
        refused.CurrentRound.Should().Be(2);
        var latest = await Reader.ReadLatestAsync();
        latest!.Step.Should().Be(1);
        latest.Round.Should().Be(2);
    }

    [Fact]
    public async Task A_second_fence_of_the_same_or_an_older_round_is_refused()
    {
        await Fence.AdvanceAsync(3);

        var again = () => Fence.AdvanceAsync(3);
        var older = () => Fence.AdvanceAsync(2);

        var refused = (await again.Should().ThrowAsync<StaleRoundException>()).Which;
        refused.Step.Should().BeNull();
        refused.Message.Should().Contain("cannot fence round 3").And.Contain("already at round 3");
        await older.Should().ThrowAsync<StaleRoundException>();
        (await Fence.ReadAsync())!.Round.Should().Be(3);
    }

    [Fact]
    public async Task A_pointer_written_before_rounds_existed_loads_as_round_zero_and_a_fence_keeps_its_step()
    {
        await _model.WriteWorldAsync(new ShardedCheckpointWriter(Store, Layout), step: 4, worldSize: 2);
        await Store.PutBytesAsync(Layout.Latest, System.Text.Encoding.UTF8.GetBytes($"{{\"step\":4,\"manifest\":\"{Layout.Manifest(4)}\"}}"));

        var old = await Reader.ReadLatestAsync();
        old!.Step.Should().Be(4);
        old.Round.Should().Be(0);
        using (var loaded = await Reader.LoadLatestValidAsync([]))
        {
            loaded!.Step.Should().Be(4);
        }

        var fenced = await Fence.AdvanceAsync(1);

        fenced.Step.Should().Be(4);
        fenced.Manifest.Should().Be(Layout.Manifest(4));
        var latest = await Reader.ReadLatestAsync();
        latest!.Step.Should().Be(4);
        latest.Round.Should().Be(1);
        (await new CheckpointRetention(Store, Layout) { KeepLast = 1 }.PlanAsync()).Keep.Should().Contain(4, "retention never deletes what latest names");
    }

    [Fact]
    public async Task A_pointer_without_a_manifest_must_be_at_step_zero()
    {
        await Store.PutBytesAsync(Layout.Latest, "{\"step\":7,\"round\":2}"u8.ToArray());

        var read = () => Reader.ReadLatestAsync();

        (await read.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain(Layout.Latest).And.Contain("'manifest'").And.Contain("step 0, not 7");
    }

    [Fact]
    public async Task A_fenced_writer_commits_only_where_the_fence_of_its_round_is_visible()
    {
        // A store no coordinator fenced (a node's own directory): a launched worker's commit is refused, not accepted.
        var unfenced = () => CommitAsync(step: 1, round: 1);

        var refused = (await unfenced.Should().ThrowAsync<FenceNotVisibleException>()).Which;
        refused.Message.Should().Contain("step 1").And.Contain("round 1").And.Contain(Layout.Latest).And.Contain(Store.Location).And.Contain("does not exist").And.Contain("az://");
        (await Fence.ReadAsync()).Should().BeNull("nothing was written");
        (await Store.ExistsAsync(Layout.Manifest(1))).Should().BeFalse();

        // The store holds an older round than the writer's: that fence is not the writer's either.
        await Fence.AdvanceAsync(1);
        var ahead = () => CommitAsync(step: 1, round: 2);
        (await ahead.Should().ThrowAsync<FenceNotVisibleException>()).Which.StoredRound.Should().Be(1);
        (await Reader.ReadLatestAsync()).Should().BeNull();
    }

    [Fact]
    public async Task A_stages_outputs_are_committed_by_a_fenced_swap_and_kept_by_later_fences()
    {
        await Fence.AdvanceAsync(1);
        await CommitAsync(step: 3, round: 1);
        var weights = new StageOutput("outputs/vae/" + new string('a', 64) + ".safetensors", new string('a', 64), 5);
        await Store.PutBytesAsync(weights.Object, "bytes"u8.ToArray());

        await new CheckpointCommitter(Store, Layout, round: 1).CommitOutputsAsync(3, new Dictionary<string, StageOutput> { ["vae.safetensors"] = weights });
        await Fence.AdvanceAsync(2);

        var latest = await Fence.ReadAsync();
        latest!.Step.Should().Be(3);
        latest.Round.Should().Be(2);
        latest.Outputs.Should().ContainKey("vae.safetensors").WhoseValue.Should().Be(weights);
        var stale = () => new CheckpointCommitter(Store, Layout, round: 1).CommitOutputsAsync(3, new Dictionary<string, StageOutput> { ["vae.safetensors"] = weights });
        await stale.Should().ThrowAsync<StaleRoundException>();
        var missing = () => new CheckpointCommitter(Store, Layout, round: 2).CommitOutputsAsync(3, new Dictionary<string, StageOutput> { ["x"] = weights with { Object = "outputs/none" } });
        (await missing.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("outputs/none");
        var wrongStep = () => new CheckpointCommitter(Store, Layout, round: 2).CommitOutputsAsync(4, new Dictionary<string, StageOutput> { ["vae.safetensors"] = weights });
        (await wrongStep.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("names step 3, not 4");
    }

    private async Task CommitAsync(long step, long round, ICheckpointStore? through = null)
    {
        var writer = new ShardedCheckpointWriter(Store, Layout);
        var owned = new List<Sora.Torch.Tensor>();
        try
        {
            var infos = new List<ShardInfo>();
            for (var rank = 0; rank < 2; rank++)
            {
                infos.Add(await writer.WriteShardAsync(_model.Contents(step, rank, 2, owned)));
            }

            await new CheckpointCommitter(through ?? Store, Layout, round: round).CommitAsync(_model.Contents(step, 0, 2, owned), infos);
        }
        finally
        {
            owned.ForEach(t => t.Dispose());
        }
    }

    /// <summary>A store that runs a fence (once) just before the first put of the pointer goes through to the real store.</summary>
    private sealed class FenceBeforeFirstPut(ICheckpointStore inner, string pointer, Func<Task> fence) : ICheckpointStore
    {
        public bool Fenced { get; private set; }

        public string Location => inner.Location;

        public async Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default)
        {
            if (name == pointer && !Fenced)
            {
                Fenced = true;
                await fence();
            }

            return await inner.PutAsync(name, content, condition, cancellationToken);
        }

        public Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(name, cancellationToken);

        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}

/// <summary>Round fencing in a local directory.</summary>
public sealed class CheckpointFenceLocalTests : CheckpointFenceTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-fence-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected override ICheckpointStore CreateStore() => new LocalDirectoryStore(_root);
}

/// <summary>Round fencing in Azure Blob storage (a real Azurite): ETags and If-Match are the service's.</summary>
public sealed class CheckpointFenceAzureTests(AzuriteFixture fixture) : CheckpointFenceTests, IClassFixture<AzuriteFixture>
{
    protected override ICheckpointStore CreateStore() =>
        AzureBlobStore.FromConnectionString(fixture.Azurite.ConnectionString, "fence" + Guid.NewGuid().ToString("N"), new AzureBlobStoreOptions { BlockSize = 64 << 10 });
}
