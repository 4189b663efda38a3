using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

/// <summary>Runs alone: one test draws from the process-wide generator and must not race other tests' draws.</summary>
[Collection(nameof(GlobalRandomState))]
public sealed class ShardedCheckpointReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-sharded-").FullName;
    private readonly LocalDirectoryStore _store;
    private readonly ShardedCheckpointWriter _writer;
    private readonly ShardedCheckpointReader _reader;
    private readonly ShardedTestModel _model = new(seed: 11);

    public ShardedCheckpointReaderTests()
    {
        _store = new LocalDirectoryStore(_root);
        _writer = new ShardedCheckpointWriter(_store);
        _reader = new ShardedCheckpointReader(_store);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    [InlineData(1, 4)]
    public async Task A_checkpoint_written_by_N_ranks_loads_on_M_ranks_bit_for_bit(int writers, int readers)
    {
        await _model.WriteWorldAsync(_writer, step: 20, writers);
        var manifest = await _reader.ReadManifestAsync(20);

        var assembled = _model.Full.Keys.ToDictionary(k => k, _ => new List<byte>());
        for (var rank = 0; rank < readers; rank++)
        {
            var requests = manifest.Tensors.Select(t => TensorRequest.EvenShard(t, rank, readers)).ToList();
            using var loaded = await _reader.LoadLatestAsync(requests);
            loaded!.Step.Should().Be(20);
            foreach (var request in requests)
            {
                var tensor = loaded.Tensors[request.Name];
                tensor.Shape.Should().Equal(request.End!.Value - request.Start!.Value);
                tensor.DType.Should().Be(manifest.Find(request.Name)!.DType);
                assembled[request.Name].AddRange(ShardedTestModel.BytesOf(tensor));
            }
        }

        foreach (var (name, bytes) in _model.Full)
        {
            assembled[name].Should().Equal(bytes, $"tensor '{name}' reassembled from {readers} ranks' loads of a {writers}-rank checkpoint");
        }
    }

    [Fact]
    public async Task Full_tensors_come_back_in_their_shape_with_their_bytes()
    {
        await _model.WriteWorldAsync(_writer, step: 5, worldSize: 2);

        using var loaded = await _reader.LoadAsync(5, ShardedTestModel.Layout.Select(t => TensorRequest.Full(t.Name)).ToList());

        foreach (var (name, _, shape, dtype) in ShardedTestModel.Layout)
        {
            loaded.Tensors[name].Shape.Should().Equal(shape);
            loaded.Tensors[name].DType.Should().Be(dtype);
            ShardedTestModel.BytesOf(loaded.Tensors[name]).Should().Equal(_model.Full[name]);
        }
    }

    [Fact]
    public async Task Cursor_generator_states_schedule_and_metadata_round_trip()
    {
        await _model.WriteWorldAsync(_writer, step: 9, worldSize: 3);

        using var loaded = await _reader.LoadLatestAsync([]);

        loaded!.Manifest.DataCursor.Should().Be(ShardedTestModel.Cursor(9));
        loaded.Manifest.SchedulePosition.Should().Be(1009);
        loaded.Manifest.ConfigHash.Should().Be("config-sha256:0123");
        loaded.Manifest.Metadata.Should().Equal(new Dictionary<string, string> { ["model"] = "dit-s" });
        for (var rank = 0; rank < 3; rank++)
        {
            loaded.GeneratorStates(rank)["cpu"].Should().Equal(ShardedTestModel.GeneratorState(9, rank));
        }
    }

    [Fact]
    public async Task A_generator_state_from_RandomState_restores_the_same_random_stream()
    {
        var owned = new List<Tensor>();
        var contents = _model.Contents(3, 0, 1, owned) with { GeneratorStates = new Dictionary<string, byte[]> { ["cpu"] = RandomState.GetState() } };
        var expected = Draw();
        await _writer.WriteWorldAsync([contents]);
        owned.ForEach(t => t.Dispose());
        Draw().Should().NotEqual(expected, "the generator moved on");

        using var loaded = await _reader.LoadLatestAsync([]);
        RandomState.SetState(loaded!.GeneratorStates(0)["cpu"]);

        Draw().Should().Equal(expected);

        static float[] Draw()
        {
            using var scope = Tensor.NewDisposeScope();
            return Tensor.Rand([16]).ToArray<float>();
        }
    }

    [Fact]
    public async Task A_flipped_byte_is_reported_with_the_shard_and_both_hashes()
    {
        var manifest = await _model.WriteWorldAsync(_writer, step: 4, worldSize: 2);
        var shard = _writer.Layout.Shard(4, 1, 2);
        FlipByte(shard, 100);

        var load = () => _reader.LoadAsync(4, manifest.Tensors.Select(t => TensorRequest.Full(t.Name)).ToList());

        var error = (await load.Should().ThrowAsync<CheckpointCorruptException>()).Which;
        error.ObjectName.Should().Be(shard);
        error.ExpectedSha256.Should().Be(manifest.Shards[1].Sha256);
        error.ActualSha256.Should().NotBe(error.ExpectedSha256).And.HaveLength(64);
        error.Message.Should().Contain(shard).And.Contain(error.ExpectedSha256).And.Contain(error.ActualSha256);
        (await _reader.VerifyAsync(manifest)).Select(p => p.ObjectName).Should().Equal(shard);
    }

    [Fact]
    public async Task A_shard_of_several_digest_chunks_loads_and_a_flip_in_any_chunk_is_caught()
    {
        // 10 MiB + 8 bytes of float32 in one shard: three 4 MiB digest chunks, the last one short.
        const long elements = ((10L << 20) + 8) / 4;
        var bytes = new byte[elements * 4];
        new Random(5).NextBytes(bytes);
        using var weight = Tensor.FromBytes(bytes, [elements], ScalarType.Float32);
        var contents = new CheckpointContents(9, 0, 1, "c", [ShardedTensorSpec.Whole("w", TensorKind.Model, weight)]);
        var manifest = await _writer.WriteWorldAsync([contents]);
        manifest.Shards[0].ChunkBytes.Should().Be(ShardDigest.ChunkBytes);
        manifest.Shards[0].Size.Should().BeGreaterThan(2L * ShardDigest.ChunkBytes);

        using (var loaded = await _reader.LoadAsync(9, [TensorRequest.Full("w")]))
        {
            ShardedTestModel.BytesOf(loaded.Tensors["w"]).Should().Equal(bytes);
        }

        var shard = _writer.Layout.Shard(9, 0, 1);
        foreach (var offset in new[] { 3L, ShardDigest.ChunkBytes + 17L, manifest.Shards[0].Size - 1 })
        {
            FlipByte(shard, offset);
            var load = () => _reader.LoadAsync(9, [TensorRequest.Full("w")]);
            (await load.Should().ThrowAsync<CheckpointCorruptException>($"byte {offset} flipped")).Which.ObjectName.Should().Be(shard);
            FlipByte(shard, offset);
        }

        (await _reader.VerifyAsync(manifest)).Should().BeEmpty("every flip was undone");
    }

    [Fact]
    public async Task A_version_1_checkpoint_with_a_whole_object_sha256_still_loads_and_verifies()
    {
        var written = await _model.WriteWorldAsync(_writer, step: 6, worldSize: 2);
        // Rewrite the manifest as format version 1 wrote it: no chunk_bytes, the SHA-256 of each whole object.
        var name = _writer.Layout.Manifest(6);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllBytes(_store.PathOf(name)))!.AsObject();
        json["format_version"] = 1;
        foreach (var node in json["shards"]!.AsArray())
        {
            var shardObject = node!.AsObject();
            shardObject.Remove("chunk_bytes");
            var file = _store.PathOf(_writer.Layout.Shard(6, shardObject["rank"]!.GetValue<int>(), 2));
            shardObject["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        }

        File.WriteAllText(_store.PathOf(name), json.ToJsonString());
        var manifest = await _reader.ReadManifestAsync(6);
        manifest.FormatVersion.Should().Be(1);
        manifest.Shards.Should().OnlyContain(s => s.ChunkBytes == null);

        using (var loaded = await _reader.LoadAsync(6, written.Tensors.Select(t => TensorRequest.Full(t.Name)).ToList()))
        {
            foreach (var (tensorName, bytes) in _model.Full)
            {
                ShardedTestModel.BytesOf(loaded.Tensors[tensorName]).Should().Equal(bytes, tensorName);
            }
        }

        FlipByte(_writer.Layout.Shard(6, 0, 2), 64);
        (await _reader.VerifyAsync(manifest)).Select(p => p.ObjectName).Should().Equal(_writer.Layout.Shard(6, 0, 2));
    }

    [Fact]
    public async Task A_truncated_shard_is_corrupt()
    {
        var manifest = await _model.WriteWorldAsync(_writer, step: 4, worldSize: 2);
        var path = _store.PathOf(_writer.Layout.Shard(4, 0, 2));
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^3]);

        var problems = await _reader.VerifyAsync(manifest);

        problems.Should().ContainSingle().Which.Should().BeOfType<CheckpointCorruptException>().Which.Message.Should().Contain($"{manifest.Shards[0].Size} bytes");
    }

    [Fact]
    public async Task Load_latest_valid_falls_back_to_the_previous_checkpoint_and_names_the_corrupt_shard()
    {
        await _model.WriteWorldAsync(_writer, step: 10, worldSize: 2);
        var newer = new ShardedTestModel(seed: 99);
        await newer.WriteWorldAsync(_writer, step: 20, worldSize: 2);
        var corrupt = _writer.Layout.Shard(20, 0, 2);
        FlipByte(corrupt, 5);

        using var loaded = await _reader.LoadLatestValidAsync([TensorRequest.Full("ema/blocks.0.attn.qkv.weight")]);

        loaded!.Step.Should().Be(10);
        ShardedTestModel.BytesOf(loaded.Tensors["ema/blocks.0.attn.qkv.weight"]).Should().Equal(_model.Full["ema/blocks.0.attn.qkv.weight"]);
        loaded.Warnings.Should().ContainSingle().Which.Should().Contain("step 20").And.Contain(corrupt);
    }

    [Fact]
    public async Task Load_latest_valid_checks_every_shard_even_those_it_does_not_need()
    {
        await _model.WriteWorldAsync(_writer, step: 10, worldSize: 2);
        await _model.WriteWorldAsync(_writer, step: 20, worldSize: 2);
        // Rank 1 holds no element of the scalar, so only a full verification notices its corruption.
        FlipByte(_writer.Layout.Shard(20, 1, 2), 200);

        using var checkedAll = await _reader.LoadLatestValidAsync([TensorRequest.Full("scalar")]);
        using var checkedNeeded = await _reader.LoadLatestValidAsync([TensorRequest.Full("scalar")], verifyAllShards: false);

        checkedAll!.Step.Should().Be(10);
        checkedNeeded!.Step.Should().Be(20);
    }

    [Fact]
    public async Task Load_latest_valid_skips_a_missing_shard_and_a_broken_latest_pointer()
    {
        await _model.WriteWorldAsync(_writer, step: 1, worldSize: 2);
        await _model.WriteWorldAsync(_writer, step: 2, worldSize: 2);
        await _store.DeleteAsync(_writer.Layout.Shard(2, 1, 2));

        using (var loaded = await _reader.LoadLatestValidAsync([]))
        {
            loaded!.Step.Should().Be(1);
            loaded.Warnings.Should().ContainSingle().Which.Should().Contain("shard-00001-of-00002.bin").And.Contain("missing");
        }

        await _store.PutBytesAsync(_writer.Layout.Latest, "{\"step\":"u8.ToArray());
        using (var loaded = await _reader.LoadLatestValidAsync([]))
        {
            loaded!.Step.Should().Be(1);
            loaded.Warnings[0].Should().Contain("checkpoints/latest").And.Contain("not valid JSON");
        }
    }

    [Fact]
    public async Task Load_latest_valid_gives_null_on_an_empty_store_and_fails_when_nothing_is_usable()
    {
        (await _reader.LoadLatestValidAsync([])).Should().BeNull();
        await _model.WriteWorldAsync(_writer, step: 1, worldSize: 1);
        FlipByte(_writer.Layout.Shard(1, 0, 1), 0);

        var load = () => _reader.LoadLatestValidAsync([]);

        (await load.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain("no usable checkpoint").And.Contain("shard-00000-of-00001.bin");
    }

    [Fact]
    public async Task Requests_for_unknown_tensors_or_ranges_outside_the_tensor_fail_clearly()
    {
        await _model.WriteWorldAsync(_writer, step: 1, worldSize: 1);

        var unknown = () => _reader.LoadAsync(1, [TensorRequest.Full("nope")]);
        var outside = () => _reader.LoadAsync(1, [TensorRequest.Range("blocks.0.attn.qkv.bias", 3, 8)]);

        (await unknown.Should().ThrowAsync<KeyNotFoundException>()).Which.Message.Should().Contain("'nope'").And.Contain("manifest.json");
        (await outside.Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.Message.Should().Contain("[3, 8)").And.Contain("7 elements");
    }

    [Fact]
    public async Task A_shard_can_be_loaded_on_its_own_verifying_only_the_shards_it_reads()
    {
        var manifest = await _model.WriteWorldAsync(_writer, step: 6, worldSize: 4);
        FlipByte(_writer.Layout.Shard(6, 3, 4), 40);
        var weight = manifest.Find("blocks.0.attn.qkv.weight")!;

        // Elements [0, 9) lie in rank 0's shard only; asking for everything touches rank 3's corrupt shard.
        using var first = await _reader.LoadAsync(manifest, [TensorRequest.Range(weight.Name, 0, 9)]);
        var all = () => _reader.LoadAsync(manifest, [TensorRequest.Range(weight.Name, 0, 9)], verifyAllShards: true);

        ShardedTestModel.BytesOf(first.Tensors[weight.Name]).Should().Equal(_model.Full[weight.Name][..(9 * 4)]);
        (await all.Should().ThrowAsync<CheckpointCorruptException>()).Which.ObjectName.Should().EndWith("shard-00003-of-00004.bin");
    }

    [Fact]
    public async Task Listing_finds_complete_checkpoints_only()
    {
        await _model.WriteWorldAsync(_writer, step: 3, worldSize: 1);
        await _model.WriteWorldAsync(_writer, step: 12, worldSize: 2);
        var owned = new List<Tensor>();
        await _writer.WriteShardAsync(_model.Contents(15, 0, 2, owned));
        owned.ForEach(t => t.Dispose());

        (await _reader.ListStepsAsync()).Should().Equal(3, 12);
    }

    private void FlipByte(string objectName, long offset)
    {
        using var file = File.Open(_store.PathOf(objectName), FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x40));
    }
}

/// <summary>Tests that use the process-wide random generator run in this collection, alone.</summary>
[CollectionDefinition(nameof(GlobalRandomState), DisableParallelization = true)]
public sealed class GlobalRandomState;
