using System.Text;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Formats;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

public sealed class CheckpointManifestTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-manifest-").FullName;
    private readonly LocalDirectoryStore _store;
    private readonly ShardedCheckpointWriter _writer;
    private readonly ShardedCheckpointReader _reader;
    private readonly ShardedTestModel _model = new(seed: 3);
    private readonly DateTimeOffset _now = new(2026, 11, 22, 9, 30, 0, TimeSpan.Zero);

    public CheckpointManifestTests()
    {
        _store = new LocalDirectoryStore(_root);
        _writer = new ShardedCheckpointWriter(_store);
        _reader = new ShardedCheckpointReader(_store);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_manifest_records_every_tensor_range_and_shard_hash()
    {
        await _model.WriteWorldAsync(_writer, step: 123, worldSize: 2);
        var json = JsonNode.Parse(File.ReadAllBytes(_store.PathOf("checkpoints/step-000000123/manifest.json")))!.AsObject();

        json["format_version"]!.GetValue<int>().Should().Be(2);
        json["step"]!.GetValue<long>().Should().Be(123);
        json["world_size"]!.GetValue<int>().Should().Be(2);
        json["config_hash"]!.GetValue<string>().Should().Be("config-sha256:0123");
        json["schedule_position"]!.GetValue<long>().Should().Be(1123);
        json["data_cursor"]!["samples_consumed"]!.GetValue<long>().Should().Be(984);
        DateTimeOffset.Parse(json["created"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));

        var shards = json["shards"]!.AsArray();
        shards.Select(s => s!["object"]!.GetValue<string>()).Should().Equal("shard-00000-of-00002.bin", "shard-00001-of-00002.bin");
        foreach (var shard in shards)
        {
            var bytes = File.ReadAllBytes(_store.PathOf("checkpoints/step-000000123/" + shard!["object"]!.GetValue<string>()));
            shard["size"]!.GetValue<long>().Should().Be(bytes.Length);
            // Format version 2: the SHA-256 of the SHA-256s of the object's 4 MiB chunks (here one chunk).
            shard["chunk_bytes"]!.GetValue<int>().Should().Be(4 << 20);
            bytes.Length.Should().BeLessThan(4 << 20);
            shard["sha256"]!.GetValue<string>().Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Security.Cryptography.SHA256.HashData(bytes))));
        }

        var weight = json["tensors"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "blocks.0.attn.qkv.weight")!;
        weight["kind"]!.GetValue<string>().Should().Be("model");
        weight["dtype"]!.GetValue<string>().Should().Be("F32");
        weight["shape"]!.AsArray().Select(s => s!.GetValue<long>()).Should().Equal(7, 5);
        var pieces = weight["pieces"]!.AsArray();
        pieces.Select(p => (p!["rank"]!.GetValue<int>(), p["start"]!.GetValue<long>(), p["end"]!.GetValue<long>())).Should().Equal((0, 0L, 18L), (1, 18L, 35L));
        json["tensors"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "optim/blocks.0.attn.qkv.weight/exp_avg")!["kind"]!.GetValue<string>().Should().Be("optimizer");
        json["tensors"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "ema/blocks.0.attn.qkv.weight")!["kind"]!.GetValue<string>().Should().Be("ema");

        // The offset points at the range's bytes in the shard object.
        var offset = pieces[1]!["offset"]!.GetValue<long>();
        var shard1 = File.ReadAllBytes(_store.PathOf("checkpoints/step-000000123/shard-00001-of-00002.bin"));
        shard1.AsSpan((int)offset, 17 * 4).ToArray().Should().Equal(_model.Full["blocks.0.attn.qkv.weight"].AsSpan(18 * 4, 17 * 4).ToArray());
        (await _store.ReadAllBytesAsync("checkpoints/latest")).Should().Equal(Encoding.UTF8.GetBytes("{\"step\":123,\"manifest\":\"checkpoints/step-000000123/manifest.json\"}"));
    }

    [Fact]
    public async Task A_shard_object_is_a_safetensors_file_of_its_flat_ranges()
    {
        await _model.WriteWorldAsync(_writer, step: 1, worldSize: 2);

        var (tensors, metadata) = SafeTensorsFile.Read(_store.PathOf(_writer.Layout.Shard(1, 1, 2)));
        try
        {
            metadata["rank"].Should().Be("1");
            metadata["world_size"].Should().Be("2");
            ShardedTestModel.BytesOf(tensors["blocks.0.attn.qkv.bias"]).Should().Equal(_model.Full["blocks.0.attn.qkv.bias"][(4 * 4)..]);
            tensors["embed.table"].DType.Should().Be(ScalarType.BFloat16);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("step", "\"x\"", "field 'step': expected an integer")]
    [InlineData("world_size", "0", "field 'world_size': 0 is not a world size")]
    [InlineData("format_version", "7", "field 'format_version': version 7 is not supported (this build reads 1 to 2)")]
    [InlineData("created", "\"yesterday\"", "field 'created': 'yesterday' is not a timestamp")]
    [InlineData("shards", "[]", "field 'shards': 0 shard(s) for world size 2")]
    public async Task A_malformed_manifest_names_the_manifest_and_the_field(string field, string value, string expected)
    {
        var manifest = await EditManifest(json => json[field] = JsonNode.Parse(value));

        var read = () => _reader.ReadManifestAsync(2);

        (await read.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Be($"{manifest}: {expected}");
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/abs/shard.bin")]
    [InlineData("C:/shard.bin")]
    [InlineData("sub/shard.bin")]
    [InlineData("..")]
    public async Task Shard_names_that_leave_the_checkpoint_folder_are_rejected(string name)
    {
        var manifest = await EditManifest(json => json["shards"]![1]!["object"] = name);

        var read = () => _reader.ReadManifestAsync(2);

        (await read.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().StartWith($"{manifest}: field 'shards[1].object': '{name}'");
    }

    [Fact]
    public async Task Pieces_that_do_not_cover_a_tensor_or_lie_outside_their_shard_are_rejected()
    {
        var gap = await EditManifest(json => json["tensors"]![0]!["pieces"]![1]!["start"] = 1);
        var readGap = () => _reader.ReadManifestAsync(2);
        (await readGap.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain($"{gap}: field 'tensors[0].pieces[1]'").And.Contain("does not continue");

        await EditManifest(json => json["tensors"]![0]!["pieces"]![1]!["offset"] = 1L << 40);
        var readOffset = () => _reader.ReadManifestAsync(2);
        (await readOffset.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain("field 'tensors[0].pieces[1].offset'").And.Contain("past the end of shard 1");

        await EditManifest(json => json["tensors"]![0]!["dtype"] = "F8");
        var readType = () => _reader.ReadManifestAsync(2);
        (await readType.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain("field 'tensors[0].dtype'").And.Contain("F8");
    }

    [Fact]
    public async Task Garbage_in_the_manifest_or_the_latest_pointer_is_reported_with_the_object_name()
    {
        await _model.WriteWorldAsync(_writer, step: 2, worldSize: 2);
        await _store.PutBytesAsync(_writer.Layout.Manifest(2), "not json"u8.ToArray());
        var read = () => _reader.ReadManifestAsync(2);
        (await read.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().StartWith("checkpoints/step-000000002/manifest.json: not valid JSON");

        await _store.PutBytesAsync(_writer.Layout.Latest, "{\"step\":2,\"manifest\":\"checkpoints/../x/manifest.json\"}"u8.ToArray());
        var latest = () => _reader.ReadLatestAsync();
        (await latest.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Be("checkpoints/latest: field 'manifest': 'checkpoints/../x/manifest.json' is not a valid object name (no '..', no absolute path)");

        await _store.PutBytesAsync(_writer.Layout.Latest, "{\"step\":2,\"manifest\":\"checkpoints/step-000000001/manifest.json\"}"u8.ToArray());
        (await latest.Should().ThrowAsync<CheckpointFormatException>()).Which.Message.Should().Contain("not the manifest of step 2");
    }

    [Fact]
    public void A_manifest_round_trips_through_json()
    {
        var manifest = new CheckpointManifest(
            2, 4, 1, "h", _now, 44, "{\"a\":1}", new Dictionary<string, string> { ["k"] = "v" },
            [new ManifestShard(0, "shard-00000-of-00001.bin", new string('a', 64), 100, new Dictionary<string, byte[]> { ["cpu"] = [1, 2, 3] }, ChunkBytes: 4096)],
            [new ManifestTensor("w", TensorKind.Ema, [2, 3], ScalarType.Float16, [new TensorPiece(0, 0, 6, 8)])]);

        var parsed = CheckpointManifest.Parse(manifest.ToJson(), "m");

        parsed.Should().BeEquivalentTo(manifest);
        var version1 = manifest with { FormatVersion = 1, Shards = [manifest.Shards[0] with { ChunkBytes = null }] };
        CheckpointManifest.Parse(version1.ToJson(), "m").Should().BeEquivalentTo(version1, "version 1 manifests (whole-object SHA-256) are still read");
        FluentActions.Invoking(() => CheckpointManifest.Parse((manifest with { FormatVersion = 1 }).ToJson(), "m")).Should().Throw<CheckpointFormatException>()
            .WithMessage("m: field 'shards[0].chunk_bytes': is not part of format version 1");
        FluentActions.Invoking(() => CheckpointManifest.Parse((version1 with { FormatVersion = 2 }).ToJson(), "m"))
            .Should().Throw<CheckpointFormatException>().WithMessage("m: field 'shards[0].chunk_bytes': is required by format version 2");
    }

    [Fact]
    public void Shard_infos_round_trip_through_json_and_bad_ones_name_their_source()
    {
        var info = new ShardInfo(3, 1, 2, "shard-00001-of-00002.bin", new string('b', 64), 77,
            [new ShardEntry("w", TensorKind.Optimizer, [4, 4], ScalarType.BFloat16, 8, 16, 120)],
            new Dictionary<string, byte[]> { ["cuda:0"] = [9, 8] }, ChunkBytes: 1 << 22);

        ShardInfo.FromJson(info.ToJson()).Should().BeEquivalentTo(info);
        ShardInfo.FromJson((info with { ChunkBytes = null }).ToJson()).ChunkBytes.Should().BeNull();
        FluentActions.Invoking(() => ShardInfo.FromJson(info.ToJson().Replace("\"optimizer\"", "\"adam\"", StringComparison.Ordinal), "shard info of rank 1"))
            .Should().Throw<CheckpointFormatException>().WithMessage("shard info of rank 1: field 'entries[0].kind': 'adam' is not one of model, optimizer, ema");
    }

    private async Task<string> EditManifest(Action<JsonObject> edit)
    {
        if (!await _store.ExistsAsync(_writer.Layout.Latest))
        {
            await _model.WriteWorldAsync(_writer, step: 2, worldSize: 2);
        }

        var name = _writer.Layout.Manifest(2);
        var path = _store.PathOf(name);
        if (!File.Exists(path + ".orig"))
        {
            File.Copy(path, path + ".orig");
        }

        var json = JsonNode.Parse(File.ReadAllBytes(path + ".orig"))!.AsObject();
        edit(json);
        await _store.PutBytesAsync(name, Encoding.UTF8.GetBytes(json.ToJsonString()));
        return name;
    }
}
