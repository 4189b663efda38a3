using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

public sealed class CheckpointCommitterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-commit-").FullName;
    private readonly LocalDirectoryStore _store;
    private readonly ShardedCheckpointWriter _writer;
    private readonly ShardedCheckpointReader _reader;
    private readonly CheckpointCommitter _committer;
    private readonly ShardedTestModel _model = new(seed: 5);
    private readonly List<Tensor> _owned = [];

    public CheckpointCommitterTests()
    {
        _store = new LocalDirectoryStore(_root);
        _writer = new ShardedCheckpointWriter(_store);
        _reader = new ShardedCheckpointReader(_store);
        _committer = new CheckpointCommitter(_store);
    }

    public void Dispose()
    {
        _owned.ForEach(t => t.Dispose());
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Rank_zero_commits_from_shard_infos_exchanged_as_json()
    {
        // Each "process" writes its own shard and sends its info as a string, as through the TCPStore.
        var messages = await Task.WhenAll(Enumerable.Range(0, 3).Select(async rank =>
            (await _writer.StartWriteShard(ShardSnapshot.Capture(_model.Contents(7, rank, 3, _owned)))).ToJson()));

        var manifest = await _committer.CommitAsync(_model.Contents(7, 0, 3, _owned), messages.Reverse());

        manifest.Shards.Select(s => s.Rank).Should().Equal(0, 1, 2);
        var latest = await _reader.ReadLatestAsync();
        latest!.Step.Should().Be(7);
        latest.Manifest.Should().Be("checkpoints/step-000000007/manifest.json");
        using var loaded = await _reader.LoadAsync(7, [TensorRequest.Full("blocks.0.attn.qkv.weight")]);
        ShardedTestModel.BytesOf(loaded.Tensors["blocks.0.attn.qkv.weight"]).Should().Equal(_model.Full["blocks.0.attn.qkv.weight"]);
    }

    [Fact]
    public async Task A_crash_after_the_shards_and_before_the_manifest_leaves_latest_on_the_previous_checkpoint()
    {
        await _model.WriteWorldAsync(_writer, step: 10, worldSize: 2);
        for (var rank = 0; rank < 2; rank++)
        {
            await _writer.WriteShardAsync(_model.Contents(20, rank, 2, _owned));
        }

        (await _reader.ReadLatestAsync())!.Step.Should().Be(10);
        (await _reader.ListStepsAsync()).Should().Equal(10);
        using var loaded = await _reader.LoadLatestValidAsync([]);
        loaded!.Step.Should().Be(10);
        loaded.Warnings.Should().BeEmpty();
    }

    [Fact]
    public async Task A_crash_after_the_manifest_and_before_latest_leaves_latest_on_the_previous_checkpoint_and_a_retry_commits()
    {
        await _model.WriteWorldAsync(_writer, step: 10, worldSize: 2);
        var infos = new List<ShardInfo>();
        for (var rank = 0; rank < 2; rank++)
        {
            infos.Add(await _writer.WriteShardAsync(_model.Contents(20, rank, 2, _owned)));
        }

        var header = _model.Contents(20, 0, 2, _owned);
        await _committer.WriteManifestAsync(_committer.BuildManifest(header, infos));

        (await _reader.ReadLatestAsync())!.Step.Should().Be(10);
        using (var loaded = await _reader.LoadLatestValidAsync([]))
        {
            loaded!.Step.Should().Be(10, "a manifest newer than latest was never committed");
        }

        // The restarted job saves step 20 again: the leftover manifest is replaced and latest moves.
        await _committer.CommitAsync(header, infos);
        (await _reader.ReadLatestAsync())!.Step.Should().Be(20);
    }

    [Fact]
    public async Task Latest_moves_only_from_the_version_read_so_a_concurrent_mover_loses()
    {
        await _model.WriteWorldAsync(_writer, step: 1, worldSize: 1);
        await _model.WriteWorldAsync(_writer, step: 2, worldSize: 1);
        var latest = await _reader.ReadLatestAsync();

        // Another writer moves latest after we read it; our compare-and-swap from the old ETag must fail.
        await _committer.UpdateLatestAsync(1);
        var stale = () => _store.PutBytesAsync(_writer.Layout.Latest, new LatestPointer(2, _writer.Layout.Manifest(2)).ToJson(), PutCondition.IfMatch(latest!.ETag!));

        await stale.Should().ThrowAsync<PreconditionFailedException>();
        (await _reader.ReadLatestAsync())!.Step.Should().Be(1);
    }

    [Fact]
    public async Task Latest_cannot_point_at_a_step_without_a_manifest()
    {
        var move = () => _committer.UpdateLatestAsync(33);

        (await move.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("step-000000033/manifest.json");
        (await _store.ExistsAsync(_writer.Layout.Latest)).Should().BeFalse();
    }

    [Fact]
    public async Task Missing_or_mismatched_shard_infos_are_refused_before_anything_is_written()
    {
        var infos = new List<ShardInfo>();
        for (var rank = 0; rank < 3; rank++)
        {
            infos.Add(await _writer.WriteShardAsync(_model.Contents(4, rank, 3, _owned)));
        }

        var header = _model.Contents(4, 0, 3, _owned);
        var missing = () => _committer.CommitAsync(header, infos.Take(2).ToList());
        var twice = () => _committer.CommitAsync(header, [infos[0], infos[1], infos[1]]);
        var otherStep = () => _committer.CommitAsync(header with { Step = 5 }, infos);

        (await missing.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("rank(s) 2 of 3");
        (await twice.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("rank 1").And.Contain("twice");
        (await otherStep.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("step 4").And.Contain("step 5");
        (await _store.ExistsAsync(_writer.Layout.Manifest(4))).Should().BeFalse();
    }

    [Fact]
    public async Task A_gap_in_a_tensor_or_disagreeing_shapes_are_refused_naming_the_tensor()
    {
        using var a = Tensor.Zeros([3]);
        using var b = Tensor.Zeros([3]);
        var rank0 = new CheckpointContents(1, 0, 2, "h", [new ShardedTensorSpec("w", TensorKind.Model, [8], ScalarType.Float32, 0, 3, a)]);
        var rank1 = new CheckpointContents(1, 1, 2, "h", [new ShardedTensorSpec("w", TensorKind.Model, [8], ScalarType.Float32, 5, 8, b)]);
        var rank1Shape = rank1 with { Tensors = [new ShardedTensorSpec("w", TensorKind.Model, [2, 4], ScalarType.Float32, 3, 6, b)] };

        var gap = () => _writer.WriteWorldAsync([rank0, rank1]);
        var shape = () => _writer.WriteWorldAsync([rank0, rank1Shape]);

        (await gap.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("elements [3, 5) of tensor 'w'");
        (await shape.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'w'").And.Contain("[2, 4]").And.Contain("[8]");
    }

    [Fact]
    public async Task A_replicated_tensor_held_whole_by_every_rank_is_read_from_rank_zero()
    {
        using var w0 = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        using var w1 = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var manifest = await _writer.WriteWorldAsync(
        [
            new CheckpointContents(1, 0, 2, "h", [ShardedTensorSpec.Whole("w", TensorKind.Model, w0)]),
            new CheckpointContents(1, 1, 2, "h", [ShardedTensorSpec.Whole("w", TensorKind.Model, w1)]),
        ]);

        manifest.Tensors.Single().Pieces.Should().ContainSingle().Which.Rank.Should().Be(0);
        using var loaded = await _reader.LoadAsync(1, [TensorRequest.Full("w")]);
        loaded.Tensors["w"].ToArray<float>().Should().Equal(1f, 2f, 3f, 4f);
    }

    [Fact]
    public async Task A_pooled_snapshot_reuses_the_previous_saves_buffers_and_holds_the_new_values()
    {
        using var w = Tensor.FromArray([1f, 2f, 3f], 3);
        var pool = new HostBufferPool();
        var contents = new CheckpointContents(1, 0, 1, "h", [ShardedTensorSpec.Whole("w", TensorKind.Model, w)]);
        var first = ShardSnapshot.Capture(contents, pool);
        var buffer = first.Ranges[0].Data;
        pool.Return(first);
        pool.FreeBytes.Should().Be(12);
        w.Fill_(5f);

        var second = ShardSnapshot.Capture(contents with { Step = 2 }, pool);
        second.Ranges[0].Data.Should().BeSameAs(buffer, "the finished save's buffer is reused");
        pool.FreeBytes.Should().Be(0);
        await _committer.CommitAsync(second.Header, [await _writer.StartWriteShard(second)]);
        using var loaded = await _reader.LoadAsync(2, [TensorRequest.Full("w")]);
        loaded.Tensors["w"].ToArray<float>().Should().Equal([5f, 5f, 5f], "the reused buffer holds this save's values");
    }

    [Fact]
    public async Task A_snapshot_is_unaffected_by_changes_to_the_tensors_after_capture()
    {
        using var w = Tensor.FromArray([1f, 2f, 3f], 3);
        var snapshot = ShardSnapshot.Capture(new CheckpointContents(1, 0, 1, "h", [ShardedTensorSpec.Whole("w", TensorKind.Model, w)]));
        w.Fill_(9f);

        var info = await _writer.StartWriteShard(snapshot);
        await _committer.CommitAsync(snapshot.Header, [info]);

        using var loaded = await _reader.LoadAsync(1, [TensorRequest.Full("w")]);
        loaded.Tensors["w"].ToArray<float>().Should().Equal(1f, 2f, 3f);
    }

    [Fact]
    public async Task Local_tensors_that_do_not_match_their_spec_are_refused()
    {
        using var t = Tensor.Zeros([4]);
        var wrongCount = new CheckpointContents(1, 0, 1, "h", [new ShardedTensorSpec("w", TensorKind.Model, [10], ScalarType.Float32, 0, 5, t)]);
        var wrongType = new CheckpointContents(1, 0, 1, "h", [new ShardedTensorSpec("w", TensorKind.Model, [4], ScalarType.Float64, 0, 4, t)]);
        var outside = new CheckpointContents(1, 0, 1, "h", [new ShardedTensorSpec("w", TensorKind.Model, [4], ScalarType.Float32, 2, 6, t)]);

        FluentActions.Invoking(() => ShardSnapshot.Capture(wrongCount)).Should().Throw<ArgumentException>().WithMessage("*'w'*4 elements*[0, 5)*");
        FluentActions.Invoking(() => ShardSnapshot.Capture(wrongType)).Should().Throw<ArgumentException>().WithMessage("*'w'*float32*float64*");
        FluentActions.Invoking(() => ShardSnapshot.Capture(outside)).Should().Throw<ArgumentException>().WithMessage("*[2, 6)*4 elements*");
        FluentActions.Invoking(() => ShardSnapshot.Capture(wrongCount with { Tensors = [], DataCursor = "epoch=1" })).Should().Throw<ArgumentException>().WithMessage("*data cursor is not JSON*");
    }
}
