using Sora.Checkpoint.Stores;
using Sora.Data.Dataset;
using Sora.Data.Storage;
using static Sora.Cli.Tests.Commands.CliRun;

namespace Sora.Cli.Tests.Commands;

[Collection(nameof(ConsoleOutput))]
public class DataCommandTests
{
    [Fact]
    public void Data_gen_writes_shards_that_read_back_and_inspect_describes_them()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sora-data-gen-{Guid.NewGuid():N}");
        try
        {
            var (exit, _) = Run("data", "gen", "--output", directory, "--samples", "40", "--shard-size-mb", "0.01", "--seed", "4", "--rows-per-group", "4", "--compression", "snappy");

            exit.Should().Be(0);
            var files = Directory.GetFiles(directory, "*.parquet").Order(StringComparer.Ordinal).ToArray();
            files.Length.Should().BeGreaterThan(1, "10 KiB shards cannot hold 40 clips");
            files.Select(Path.GetFileName).Should().StartWith("part-00000.parquet");
            var records = new VideoShardReader(directory).ReadRecords().ToList();
            records.Should().HaveCount(40);
            records.Select(r => r.Id).Should().OnlyHaveUniqueItems().And.Contain("moving-shapes-4-00000039");
            records.Should().OnlyContain(r => r.Channels == 3 && r.DType == "uint8" && r.Payload.Length == r.Channels * r.Frames * r.Height * r.Width);

            var (inspectExit, text) = Run("data", "inspect", directory);

            inspectExit.Should().Be(0);
            text.Should().Contain("part-00000.parquet").And.Contain("snappy").And.Contain("payload");
            var summary = VideoDatasetSummary.Inspect(directory);
            summary.Rows.Should().Be(40);
            foreach (var (shape, count) in summary.Shapes!)
            {
                text.Should().Contain($"{shape} ", "every shape gets a bar").And.MatchRegex($@"{shape.Frames}×{shape.Height}×{shape.Width}\s.*\b{count}\b");
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void Data_gen_makes_the_sizes_and_lengths_asked_for_and_names_a_bad_one()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sora-data-gen-{Guid.NewGuid():N}");
        try
        {
            var (exit, _) = Run("data", "gen", "--output", directory, "--samples", "24", "--sizes", "32x32, 48x32", "--lengths", "1,8");

            exit.Should().Be(0);
            var shapes = new VideoShardReader(directory).ReadRecords().Select(r => (r.Frames, r.Height, r.Width)).Distinct().ToList();
            shapes.Should().BeSubsetOf([(1, 32, 32), (8, 32, 32), (1, 48, 32), (8, 48, 32)]).And.Contain((8, 48, 32));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        FluentActions.Invoking(() => Sora.Cli.Commands.DataGenCommand.ParseGeneratorOptions("32by32", null)).Should().Throw<ArgumentException>()
            .WithMessage("--sizes: '32by32' is not HEIGHTxWIDTH (for example 32x48)");
        FluentActions.Invoking(() => Sora.Cli.Commands.DataGenCommand.ParseGeneratorOptions("8x8", null)).Should().Throw<ArgumentException>()
            .WithMessage("--sizes/--lengths: *outside the allowed 16..1024*");
        FluentActions.Invoking(() => Sora.Cli.Commands.DataGenCommand.ParseGeneratorOptions(null, "8,many")).Should().Throw<ArgumentException>()
            .WithMessage("--lengths: 'many' is not a frame count");
    }

    [Fact]
    public async Task Data_gen_writes_into_a_blob_container_and_the_shards_read_back_from_there()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var container = "c" + Guid.NewGuid().ToString("N")[..20];
        var client = new Azure.Storage.Blobs.BlobContainerClient(new Uri($"{azurite.BlobEndpoint}/{container}"), azurite.Key, new Azure.Storage.Blobs.BlobClientOptions(AzureBlobLocation.DefaultServiceVersion));
        await client.CreateAsync();
        var sas = client.GenerateSasUri(Azure.Storage.Sas.BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1));
        var url = $"{sas.GetLeftPart(UriPartial.Path)}/shapes/v1{sas.Query}";

        var (exit, output) = Run("data", "gen", "--output", url, "--samples", "24", "--shard-size-mb", "0.01", "--seed", "4", "--rows-per-group", "4");

        exit.Should().Be(0, output);
        output.Should().NotContain("sig=");
        var source = ShardStorage.OpenSource(url);
        source.List().Select(s => s.Name).Should().StartWith("part-00000.parquet").And.HaveCountGreaterThan(1);
        var records = new ParquetVideoDataset(source, VideoColumns.Id).Shards.Sum(s => s.Rows);
        records.Should().Be(24);

        var (againExit, again) = Run("data", "gen", "--output", url, "--samples", "4");
        againExit.Should().NotBe(0);
        again.Should().Contain("already holds shards");

        var (badExit, bad) = Run("data", "gen", "--output", url, "--samples", "4", "--credential", "managed");
        badExit.Should().NotBe(0);
        bad.Should().Contain("managed");
    }

    [Fact]
    public void Data_inspect_of_a_file_that_is_not_parquet_fails_naming_it()
    {
        var file = Path.Combine(Path.GetTempPath(), $"sora-not-parquet-{Guid.NewGuid():N}.parquet");
        File.WriteAllText(file, "hello, this is text");
        try
        {
            var (exit, text) = RunAsync("data", "inspect", file);

            exit.Should().Be(1);
            text.Should().Contain("error:").And.Contain(Path.GetFileName(file)).And.Contain("PAR1");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
