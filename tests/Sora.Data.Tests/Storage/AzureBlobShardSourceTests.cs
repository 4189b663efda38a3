using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Sora.Checkpoint.Tests.Stores;
using Sora.Data.Dataset;
using Sora.Data.Loading;
using Sora.Data.Storage;
using Sora.Data.Synthetic;
using Sora.Data.Tests.Dataset;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Storage;

/// <summary>Datasets in a real Blob service (Azurite): written there, read by ranges or through a cache, in the same order as on disk.</summary>
public sealed class AzureBlobShardSourceTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private static readonly DataLoaderOptions Options = new() { Seed = 5, GlobalBatchSize = 6, ShardWindow = 2, PlanBatches = 4, ReadAheadBatches = 3, DecodeThreads = 2 };

    private string? Environment(string name) => name == AzureBlobLocation.ConnectionStringVariable ? fixture.Azurite.ConnectionString : null;

    [Fact]
    public void A_dataset_in_a_container_loads_the_same_batches_as_the_same_dataset_on_disk()
    {
        using var temp = new TempDirectory();
        var location = NewLocation("moving/v1");
        var samples = Write(temp.Path, ShardStorage.OpenSink(location, "part-", environment: Environment));

        var source = (AzureBlobShardSource)ShardStorage.OpenSource(location, environment: Environment);
        source.List().Select(s => s.Name).Should().Equal(Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var local = new ParquetVideoDataset(temp.Path);
        var remote = new ParquetVideoDataset(source);
        remote.Shards.Select(s => (s.Id, s.Rows)).Should().Equal(local.Shards.Select(s => (s.Id, s.Rows)));

        using var fromDisk = new DistributedDataLoader<VideoSampleRecord>(local, Options, rank: 0, worldSize: 1);
        using var fromBlob = new DistributedDataLoader<VideoSampleRecord>(remote, Options, rank: 0, worldSize: 1);
        for (var step = 0; step < 12; step++)
        {
            var expected = fromDisk.Next().Samples;
            var actual = fromBlob.Next().Samples;
            actual.Select(r => r.Id).Should().Equal(expected.Select(r => r.Id), $"step {step}");
            actual.Zip(expected).Should().OnlyContain(p => p.First.Payload.SequenceEqual(p.Second.Payload) && p.First.Caption == p.Second.Caption);
        }

        samples.Should().HaveCount(40);
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(3, 1)]
    public void A_blob_dataset_resumed_on_another_world_size_continues_the_order_the_local_one_has(int before, int after)
    {
        using var temp = new TempDirectory();
        var location = NewLocation("resume");
        Write(temp.Path, ShardStorage.OpenSink(location, "part-", environment: Environment));
        var local = new ParquetVideoDataset(temp.Path, VideoColumns.Id);
        var remote = new ParquetVideoDataset(new AzureBlobShardSource(AzureBlobLocation.Parse(location), environment: Environment), VideoColumns.Id);

        var expected = ParquetVideoDatasetTests.Read(local, Options, worldSize: 1, steps: 9, resumeFrom: null).Ids;
        var (first, cursor) = ParquetVideoDatasetTests.Read(remote, Options, before, steps: 4, resumeFrom: null);
        var (second, _) = ParquetVideoDatasetTests.Read(remote, Options, after, steps: 5, resumeFrom: DataCursor.FromJson(cursor.ToJson()));
        first.Concat(second).Should().Equal(expected);
    }

    [Fact]
    public void Without_a_cache_only_the_footers_and_the_decoded_columns_are_fetched_and_with_one_each_shard_is_fetched_once()
    {
        using var temp = new TempDirectory();
        using var cache = new TempDirectory();
        var location = NewLocation("ranged");
        // Clips of tens of KiB each, so a shard is much larger than its footer and the id column.
        MovingShapesShards.Write(ShardStorage.OpenSink(location, "part-", environment: Environment), 48, 3, MovingShapesOptions.Default, new VideoShardWriterOptions { RowsPerRowGroup = 8, Compression = global::Parquet.CompressionMethod.None });

        var ranged = new AzureBlobShardSource(AzureBlobLocation.Parse(location), environment: Environment, readAhead: 4 << 10);
        var total = ranged.List().Sum(s => s.Length);
        var ids = new ParquetVideoDataset(ranged, VideoColumns.Id);
        using (var reader = ids.Open(0))
        {
            reader.ReadRows(0, 48).Should().HaveCount(48);
        }

        ranged.BytesFetched.Should().BeGreaterThan(0).And.BeLessThan(total / 4, "the payload column is never fetched when only ids are decoded");

        var first = new AzureBlobShardSource(AzureBlobLocation.Parse(location), cache.Path, Environment);
        var second = new AzureBlobShardSource(AzureBlobLocation.Parse(location), cache.Path, Environment);
        ReadAll(new ParquetVideoDataset(first));
        ReadAll(new ParquetVideoDataset(second)).Should().Equal(ReadAll(new ParquetVideoDataset(ranged)));
        first.BytesFetched.Should().Be(total, "the first reader downloads each shard whole, once");
        second.BytesFetched.Should().Be(0, "a later reader (another run) finds every shard in the cache");
    }

    [Fact]
    public void A_sas_url_reads_the_dataset_and_no_message_repeats_the_signature()
    {
        using var temp = new TempDirectory();
        var location = NewLocation("sas");
        Write(temp.Path, ShardStorage.OpenSink(location, "part-", environment: Environment));
        var parsed = AzureBlobLocation.Parse(location);
        var container = new BlobContainerClient(new Uri($"{fixture.Azurite.BlobEndpoint}/{parsed.Container}"), fixture.Azurite.Key);
        var sas = container.GenerateSasUri(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        var url = $"{sas.GetLeftPart(UriPartial.Path)}/{parsed.Prefix.TrimEnd('/')}{sas.Query}";

        var source = (AzureBlobShardSource)ShardStorage.OpenSource(url, AzureCredentialKind.Sas, environment: _ => null);
        source.Authentication.Should().Be("SAS token");
        var dataset = new ParquetVideoDataset(source, VideoColumns.Id);
        dataset.Shards.Should().HaveCount(4);
        source.Location.Should().NotContain("sig=");
        source.Describe(source.List()[0]).Should().NotContain("sig=");

        var missing = () => ShardStorage.OpenSource(url.Replace("/sas", "/nothing-here", StringComparison.Ordinal), AzureCredentialKind.Sas).List();
        missing.Should().Throw<FileNotFoundException>().WithMessage("*holds no *.parquet shards*").Which.Message.Should().NotContain("sig=");
    }

    [Fact]
    public void Writing_into_a_prefix_that_holds_shards_is_refused_and_a_missing_secret_names_its_variable()
    {
        using var temp = new TempDirectory();
        var location = NewLocation("twice");
        Write(temp.Path, ShardStorage.OpenSink(location, "part-", environment: Environment));
        var again = () => ShardStorage.OpenSink(location, "part-", environment: Environment);
        again.Should().Throw<IOException>().WithMessage("*already holds shards (part-00000.parquet)*");

        var noSecret = () => ShardStorage.OpenSource(location, environment: _ => null);
        noSecret.Should().Throw<InvalidOperationException>().WithMessage($"*{AzureBlobLocation.ConnectionStringVariable}*");
    }

    private static string NewLocation(string prefix) => $"az://d{Guid.NewGuid():N}"[..30] + "/" + prefix;

    // 40 samples in shards of 11 rows (row groups of 4), written both to disk and to the sink.
    private static VideoSampleRecord[] Write(string directory, IShardSink sink)
    {
        var samples = VideoShardWriterTests.Samples(40);
        var options = new VideoShardWriterOptions { RowsPerRowGroup = 4, MaxRowsPerShard = 11 };
        using var local = new VideoShardWriter(directory, options);
        using var remote = new VideoShardWriter(sink, options);
        foreach (var sample in samples)
        {
            local.Write(sample);
            remote.Write(sample);
        }

        local.Complete();
        remote.Complete();
        return samples;
    }

    private static List<string> ReadAll(ParquetVideoDataset dataset) =>
        Enumerable.Range(0, dataset.Shards.Count).SelectMany(s =>
        {
            using var reader = dataset.Open(s);
            return reader.ReadRows(0, (int)dataset.Shards[s].Rows).Select(r => $"{r.Id}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(r.Payload))}").ToList();
        }).ToList();
}
