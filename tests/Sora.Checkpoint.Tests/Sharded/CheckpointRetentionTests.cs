using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

public sealed class CheckpointRetentionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-retention-").FullName;
    private readonly LocalDirectoryStore _store;
    private readonly ShardedCheckpointWriter _writer;
    private readonly ShardedCheckpointReader _reader;
    private readonly ShardedTestModel _model = new(seed: 1);

    public CheckpointRetentionTests()
    {
        _store = new LocalDirectoryStore(_root);
        _writer = new ShardedCheckpointWriter(_store);
        _reader = new ShardedCheckpointReader(_store);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Keeps_the_last_K_and_every_Mth_step_and_deletes_the_rest_entirely()
    {
        foreach (var step in new long[] { 100, 200, 300, 400, 500, 600, 700 })
        {
            await _model.WriteWorldAsync(_writer, step, worldSize: 2);
        }

        var plan = await new CheckpointRetention(_store) { KeepLast = 2, KeepEvery = 300 }.PruneAsync();

        plan.Keep.Should().Equal(300, 600, 700);
        plan.Delete.Should().Equal(100, 200, 400, 500);
        (await _reader.ListStepsAsync()).Should().Equal(300, 600, 700);
        var left = new List<string>();
        await foreach (var item in _store.ListAsync("checkpoints/"))
        {
            left.Add(item.Name);
        }

        left.Should().OnlyContain(n => n == "checkpoints/latest" || n.StartsWith("checkpoints/step-000000300/", StringComparison.Ordinal)
            || n.StartsWith("checkpoints/step-000000600/", StringComparison.Ordinal) || n.StartsWith("checkpoints/step-000000700/", StringComparison.Ordinal));
        left.Should().HaveCount(1 + (3 * 3));
    }

    [Fact]
    public async Task Never_deletes_what_latest_points_to_even_when_newer_manifests_exist()
    {
        foreach (var step in new long[] { 1, 2, 3 })
        {
            await _model.WriteWorldAsync(_writer, step, worldSize: 1);
        }

        // Steps 4 and 5 reached their manifests but not latest (a crash); latest is still step 1 after a rollback.
        await new CheckpointCommitter(_store).UpdateLatestAsync(1);
        foreach (var step in new long[] { 4, 5 })
        {
            var owned = new List<Tensor>();
            var committer = new CheckpointCommitter(_store);
            var contents = _model.Contents(step, 0, 1, owned);
            await committer.WriteManifestAsync(committer.BuildManifest(contents, [await _writer.WriteShardAsync(contents)]));
            owned.ForEach(t => t.Dispose());
        }

        var plan = await new CheckpointRetention(_store) { KeepLast = 1 }.PruneAsync();

        plan.Keep.Should().Equal(1, 5);
        (await _reader.ListStepsAsync()).Should().Equal(1, 5);
        using var loaded = await _reader.LoadLatestValidAsync([]);
        loaded!.Step.Should().Be(1);
    }

    [Fact]
    public async Task Leftovers_of_crashed_saves_older_than_latest_are_deleted_and_newer_ones_are_left_to_their_writer()
    {
        var owned = new List<Tensor>();
        await _writer.WriteShardAsync(_model.Contents(5, 0, 2, owned));
        await _model.WriteWorldAsync(_writer, step: 10, worldSize: 2);
        await _writer.WriteShardAsync(_model.Contents(15, 1, 2, owned));
        owned.ForEach(t => t.Dispose());

        var plan = await new CheckpointRetention(_store) { KeepLast = 1 }.PruneAsync();

        plan.Incomplete.Should().Equal(5);
        (await _store.ExistsAsync(_writer.Layout.Shard(5, 0, 2))).Should().BeFalse();
        (await _store.ExistsAsync(_writer.Layout.Shard(15, 1, 2))).Should().BeTrue();
    }

    [Fact]
    public async Task Planning_deletes_nothing()
    {
        foreach (var step in new long[] { 1, 2, 3 })
        {
            await _model.WriteWorldAsync(_writer, step, worldSize: 1);
        }

        var plan = await new CheckpointRetention(_store) { KeepLast = 1 }.PlanAsync();

        plan.Delete.Should().Equal(1, 2);
        (await _reader.ListStepsAsync()).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task An_unreadable_latest_pointer_stops_the_prune_before_anything_is_deleted()
    {
        foreach (var step in new long[] { 1, 2 })
        {
            await _model.WriteWorldAsync(_writer, step, worldSize: 1);
        }

        await _store.PutBytesAsync(_writer.Layout.Latest, "{}"u8.ToArray());

        var prune = () => new CheckpointRetention(_store) { KeepLast = 1 }.PruneAsync();

        (await prune.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Be("checkpoints/latest: field 'step': missing");
        (await _reader.ListStepsAsync()).Should().Equal(1, 2);
    }
}
