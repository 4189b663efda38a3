using System.Runtime.InteropServices;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Sora.Checkpoint.Stores;
using Sora.Data.Dataset;
using Sora.Data.Storage;
using Sora.Data.Synthetic;
using Sora.Distributed.Configuration;
using Sora.Distributed.Pipelines;

namespace Sora.Distributed.Tests.Pipelines;

public sealed class VideoSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sora-videoset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_generated_parquet_dataset_trains_on_exactly_the_clips_the_synthetic_source_makes()
    {
        var path = Path.Combine(_dir, "shapes");
        var synthetic = new DataConfig { Samples = 20, HeldOut = 4, Sizes = [(32, 32), (32, 48)], Lengths = [1, 8] };
        var parquet = synthetic with { Source = DataSource.Parquet, Path = path, Generate = true };

        VideoSet.EnsureGenerated(parquet, seed: 5).Should().BeTrue("nothing was there");
        Directory.GetFiles(path, "*.parquet").Should().NotBeEmpty();
        Directory.GetDirectories(_dir).Should().Equal([path], "the partial directory was moved into place");
        var stamp = Directory.GetFiles(path).Select(File.GetLastWriteTimeUtc).Max();
        VideoSet.EnsureGenerated(parquet, seed: 5).Should().BeFalse("the shards are there");
        Directory.GetFiles(path).Select(File.GetLastWriteTimeUtc).Max().Should().Be(stamp, "existing shards are never rewritten");

        var expected = VideoSet.Load(synthetic, seed: 5);
        var actual = VideoSet.Load(parquet, seed: 5);
        actual.Train.Should().HaveCount(20);
        actual.HeldOut.Should().HaveCount(4);
        foreach (var (a, e) in actual.Train.Concat(actual.HeldOut).Zip(expected.Train.Concat(expected.HeldOut)))
        {
            a.Caption.Should().Be(e.Caption);
            a.Clip.ContentEquals(e.Clip).Should().BeTrue($"'{e.Caption}' ({e.Clip}) must come back byte for byte");
        }

        actual.VocabularyCaptions.Should().Equal(expected.VocabularyCaptions);
    }

    [Fact]
    public void Generated_shapes_take_the_data_configs_shape_size()
    {
        var config = new DataConfig { Sizes = [(32, 32)], Lengths = [8], ShapeSize = (0.4, 0.6) };
        var options = VideoSet.SyntheticOptions(config);
        (options.MinShapeFraction, options.MaxShapeFraction).Should().Be((0.4, 0.6));
        var sizes = Enumerable.Range(0, 200).Select(i => new MovingShapesGenerator(options, seed: 0).Generate(i).ShapeSize).ToArray();
        sizes.Should().OnlyContain(s => s >= 12.8 && s <= 19.2, "40-60 % of 32 px");
        sizes.Max().Should().BeGreaterThan(sizes.Min() + 5, "sizes spread over the range");
        VideoSet.SyntheticOptions(new DataConfig()).MaxShapeFraction.Should().Be(MovingShapesOptions.Default.MaxShapeFraction);
    }

    [Fact]
    public void A_parquet_dataset_holds_out_its_last_rows_and_trains_on_the_others_or_the_first_samples()
    {
        var path = Path.Combine(_dir, "imported");
        MovingShapesShards.Write(path, 10, seed: 1, MovingShapesOptions.SmallCpu, new VideoShardWriterOptions { MaxRowsPerShard = 4 });
        var generator = new MovingShapesGenerator(MovingShapesOptions.SmallCpu, seed: 1);
        var config = new DataConfig { Source = DataSource.Parquet, Path = path, Samples = 0, HeldOut = 3 };

        var all = VideoSet.Load(config, seed: 0);
        all.Train.Select(c => c.Caption).Should().Equal(Enumerable.Range(0, 7).Select(i => generator.Generate(i).Caption), "rows 0..6, across three shards");
        all.HeldOut.Select(c => c.Caption).Should().Equal(Enumerable.Range(7, 3).Select(i => generator.Generate(i).Caption));
        VideoSet.Load(config with { Samples = 5 }, seed: 0).Train.Should().HaveCount(5);

        FluentActions.Invoking(() => VideoSet.Load(config with { Samples = 8 }, seed: 0)).Should().Throw<InvalidDataException>()
            .WithMessage($"{path}: data.samples asks for 8 training clips, but the dataset holds 10 and data.held_out keeps 3 of them apart");
        FluentActions.Invoking(() => VideoSet.Load(config with { HeldOut = 10 }, seed: 0)).Should().Throw<InvalidDataException>()
            .WithMessage("*holds 10 clip(s), but data.held_out keeps 10 apart*");
        FluentActions.Invoking(() => VideoSet.Load(config with { Samples = 6, Generate = true }, seed: 0)).Should().Throw<InvalidDataException>()
            .WithMessage("*holds 10 clips, but data.generate describes data.samples + data.held_out = 9*delete it to generate it again*");
        FluentActions.Invoking(() => VideoSet.Load(config with { Path = Path.Combine(_dir, "missing") }, seed: 0)).Should().Throw<FileNotFoundException>()
            .WithMessage("*missing*");
    }

    [Fact]
    public async Task A_dataset_in_a_blob_container_trains_on_the_same_clips_as_the_same_dataset_on_disk()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var container = "c" + Guid.NewGuid().ToString("N")[..20];
        var local = Path.Combine(_dir, "local");
        var options = new VideoShardWriterOptions { MaxRowsPerShard = 4 };
        MovingShapesShards.Write(local, 10, seed: 2, MovingShapesOptions.SmallCpu, options);
        string? Environment(string name) => name == AzureBlobLocation.ConnectionStringVariable ? azurite.ConnectionString : null;
        MovingShapesShards.Write(ShardStorage.OpenSink($"az://{container}/shapes", options.Prefix, environment: Environment), 10, seed: 2, MovingShapesOptions.SmallCpu, options);

        // A read-only SAS URL: the job file names no secret but the signature, which messages never repeat.
        var sas = new BlobContainerClient(new Uri($"{azurite.BlobEndpoint}/{container}"), azurite.Key)
            .GenerateSasUri(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        var yaml = $"data:\n  source: parquet\n  path: {sas.GetLeftPart(UriPartial.Path)}/shapes{sas.Query}\n  held_out: 3\n  cache: {Path.Combine(_dir, "cache")}\n";
        var remote = JobConfig.Parse(yaml, "job.yaml").Data;
        remote.Credential.Should().Be(AzureCredentialKind.Auto);
        FluentActions.Invoking(() => VideoSet.Load(remote with { Samples = 50 }, seed: 0)).Should().Throw<InvalidDataException>()
            .WithMessage($"{sas.GetLeftPart(UriPartial.Path)}/shapes: data.samples asks for 50*").Which.Message.Should().NotContain("sig=");

        var messages = new List<string>();
        var expected = VideoSet.Load(new DataConfig { Source = DataSource.Parquet, Path = local, Samples = 0, HeldOut = 3 }, seed: 0);
        var actual = VideoSet.Load(remote, seed: 0, new Sora.Data.SynchronousProgress<string>(messages.Add));
        actual.Train.Select(c => c.Caption).Should().Equal(expected.Train.Select(c => c.Caption));
        actual.Train.Zip(expected.Train).Should().OnlyContain(p => p.First.Clip.ContentEquals(p.Second.Clip));
        actual.HeldOut.Select(c => c.Caption).Should().Equal(expected.HeldOut.Select(c => c.Caption));
        messages.Should().ContainSingle(m => m.Contains("3 shard(s)", StringComparison.Ordinal)).And.NotContain(m => m.Contains("sig=", StringComparison.Ordinal));
        Directory.GetFiles(Path.Combine(_dir, "cache"), "*.parquet", SearchOption.AllDirectories).Should().HaveCount(3, "each shard is cached once");
    }

    [Fact]
    public async Task A_dataset_generated_into_blob_storage_is_marked_whole_and_an_interrupted_one_is_written_again_only_where_the_job_owns_it()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var container = "g" + Guid.NewGuid().ToString("N")[..20];
        var client = new BlobContainerClient(new Uri($"{azurite.BlobEndpoint}/{container}"), azurite.Key, new BlobClientOptions(AzureBlobLocation.DefaultServiceVersion));
        await client.CreateAsync();
        var sas = client.GenerateSasUri(BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1));
        DataConfig At(string prefix) => new() { Source = DataSource.Parquet, Generate = true, Path = $"{sas.GetLeftPart(UriPartial.Path)}/{prefix}{sas.Query}", Samples = 10, HeldOut = 2, Sizes = [(32, 32)], Lengths = [8] };
        var whole = At("data/whole");

        VideoSet.EnsureGenerated(whole, seed: 4).Should().BeTrue("nothing was there");
        VideoSet.EnsureGenerated(whole, seed: 4).Should().BeFalse("the marker says the dataset is whole");
        (await client.GetBlobClient("data/whole/" + VideoSet.GeneratedMarker).ExistsAsync()).Value.Should().BeTrue();
        var local = Path.Combine(_dir, "local");
        VideoSet.EnsureGenerated(whole with { Path = local }, seed: 4);
        var expected = VideoSet.Load(whole with { Path = local }, seed: 4);
        var actual = VideoSet.Load(whole, seed: 4);
        actual.Train.Zip(expected.Train).Should().HaveCount(10).And.OnlyContain(p => p.First.Clip.ContentEquals(p.Second.Clip) && p.First.Caption == p.Second.Caption);

        // Half a dataset: a generation that died after its first shard.
        var shard = Directory.GetFiles(local, "*.parquet").Order(StringComparer.Ordinal).First();
        await client.GetBlobClient("data/cut/" + Path.GetFileName(shard)).UploadAsync(shard);
        var cut = At("data/cut");
        var refused = FluentActions.Invoking(() => VideoSet.EnsureGenerated(cut, seed: 4)).Should().Throw<IOException>().Which.Message;
        refused.Should().Contain($"{sas.GetLeftPart(UriPartial.Path)}/data/cut").And.Contain(VideoSet.GeneratedMarker).And.Contain("data.generate: false").And.NotContain("sig=");

        VideoSet.EnsureGenerated(cut, seed: 4, owned: true).Should().BeTrue("a dataset inside the job's store is the job's own: written again");
        VideoSet.Load(cut, seed: 4).Train.Should().HaveCount(10);
    }

    [Fact]
    public void Latents_are_refused_naming_the_shard_and_the_sample()
    {
        var path = Path.Combine(_dir, "latents");
        var values = new float[4 * 2 * 4 * 4];
        using (var writer = new VideoShardWriter(path))
        {
            writer.Write(new VideoSampleRecord
            {
                Id = "clip-7",
                Caption = "a red circle",
                Kind = VideoSampleKind.Latents,
                Channels = 4,
                Frames = 2,
                Height = 4,
                Width = 4,
                DType = VideoDType.Float32,
                Payload = MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
            });
            writer.Complete();
        }

        FluentActions.Invoking(() => VideoSet.Load(new DataConfig { Source = DataSource.Parquet, Path = path, Samples = 0, HeldOut = 1 }, seed: 0))
            .Should().Throw<InvalidDataException>().WithMessage("*part-00000.parquet: sample 'clip-7' holds latents (4 channel(s) of float32)*3-channel uint8 pixels*");
    }

    [Fact]
    public void Generation_refuses_a_directory_that_holds_other_files()
    {
        var path = Path.Combine(_dir, "busy");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "notes.txt"), "mine");
        var config = new DataConfig { Source = DataSource.Parquet, Path = path, Generate = true, Samples = 4, HeldOut = 1 };
        FluentActions.Invoking(() => VideoSet.EnsureGenerated(config, seed: 0)).Should().Throw<IOException>().WithMessage("*holds other files and no *.parquet shards*");
        File.ReadAllText(Path.Combine(path, "notes.txt")).Should().Be("mine");
    }
}
