using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;
using static Sora.Cli.Tests.Commands.CliRun;

namespace Sora.Cli.Tests.Commands;

/// <summary><c>sora checkpoints list|show|verify|prune</c> on a directory of real sharded checkpoints.</summary>
[Collection(nameof(ConsoleOutput))]
public sealed class CheckpointsCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-checkpoints-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task List_show_verify_and_prune_describe_check_and_thin_out_the_store()
    {
        var writer = new ShardedCheckpointWriter(new LocalDirectoryStore(_root));
        foreach (var step in new long[] { 10, 20, 30 })
        {
            await WriteAsync(writer, step);
        }

        var (exit, list) = RunAsync("checkpoints", "list", "--store", _root);
        exit.Should().Be(0, list);
        list.Should().MatchRegex(@"│ 10\s+│\s+│").And.MatchRegex(@"│ 20\s+│\s+│").And.MatchRegex(@"│ 30\s+│\s+\*", "step 30 is latest");

        (exit, var show) = RunAsync("checkpoints", "show", "--store", _root);
        exit.Should().Be(0, show);
        show.Should().MatchRegex(@"format version\s+2").And.MatchRegex(@"shard digest\s+SHA-256 of the SHA-256s of 4(\.0)? MiB chunks")
            .And.Contain("shard-00000-of-00002.bin").And.Contain("shard-00001-of-00002.bin").And.MatchRegex(@"step\s+30");

        (exit, var verify) = RunAsync("checkpoints", "verify", "--store", _root, "--all");
        exit.Should().Be(0, verify);
        verify.Should().Contain("step 10: ok").And.Contain("step 20: ok").And.Contain("step 30: ok");

        var shard = Path.Combine(_root, "checkpoints", "step-000000020", "shard-00001-of-00002.bin");
        var bytes = await File.ReadAllBytesAsync(shard);
        bytes[^1] ^= 0x10;
        await File.WriteAllBytesAsync(shard, bytes);
        (exit, verify) = RunAsync("checkpoints", "verify", "--store", _root, "--all");
        exit.Should().Be(1, "a corrupt shard fails the verification");
        OneLine(verify).Should().Contain("step 10: ok").And.Contain("step 30: ok").And.MatchRegex("step 20: .*step-000000020/shard-00001-of-00002.bin.*corrupt shard");

        (exit, var plan) = RunAsync("checkpoints", "prune", "--store", _root, "--keep-last", "1", "--dry-run");
        exit.Should().Be(0, plan);
        plan.Should().Contain("kept 30; would delete 10, 20");
        Directory.Exists(Path.Combine(_root, "checkpoints", "step-000000010")).Should().BeTrue("a dry run deletes nothing");

        (exit, var pruned) = RunAsync("checkpoints", "prune", "--store", _root, "--keep-last", "1");
        exit.Should().Be(0, pruned);
        pruned.Should().Contain("kept 30; deleted 10, 20");
        Directory.GetDirectories(Path.Combine(_root, "checkpoints")).Select(Path.GetFileName).Should().Equal("step-000000030");
    }

    [Fact]
    public void A_store_without_checkpoints_is_said_to_be_empty_and_show_asks_for_a_step()
    {
        var (exit, verify) = RunAsync("checkpoints", "verify", "--store", _root, "--all");
        exit.Should().Be(0, verify);
        verify.Should().Contain("no complete checkpoints");

        var (showExit, show) = RunAsync("checkpoints", "show", "--store", _root);
        showExit.Should().NotBe(0);
        OneLine(show).Should().Contain("error:").And.Contain("give --step");
    }

    [Fact]
    public async Task A_blob_store_is_named_by_its_url_and_a_credential_that_does_not_fit_is_refused()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var container = "c" + Guid.NewGuid().ToString("N")[..20];
        using (var store = AzureBlobStore.FromConnectionString(azurite.ConnectionString, container))
        {
            await WriteAsync(new ShardedCheckpointWriter(store, new CheckpointLayout("checkpoints")), step: 7);
        }

        var sas = new Azure.Storage.Blobs.BlobContainerClient(new Uri($"{azurite.BlobEndpoint}/{container}"), azurite.Key)
            .GenerateSasUri(Azure.Storage.Sas.BlobContainerSasPermissions.Read | Azure.Storage.Sas.BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        var (exit, list) = RunAsync("checkpoints", "list", "--store", sas.ToString(), "--credential", "sas");
        exit.Should().Be(0, list);
        list.Should().Contain("7").And.NotContain("sig=");

        var (wrongExit, wrong) = RunAsync("checkpoints", "list", "--store", $"az://{container}", "--credential", "default");
        wrongExit.Should().NotBe(0);
        OneLine(wrong).Should().Contain("error:").And.Contain("https://<account>.blob.core.windows.net/");

        var (unknownExit, unknown) = RunAsync("checkpoints", "list", "--store", _root, "--credential", "managed");
        unknownExit.Should().NotBe(0);
        OneLine(unknown).Should().Contain("managed").And.Contain("shared-key");

        var (localExit, local) = RunAsync("checkpoints", "list", "--store", _root, "--credential", "sas");
        localExit.Should().NotBe(0);
        OneLine(local).Should().Contain("applies to blob locations only");
    }

    private static async Task WriteAsync(ShardedCheckpointWriter writer, long step)
    {
        // Disposed by hand: a dispose scope cannot span the await.
        var halves = Enumerable.Range(0, 2).Select(rank => Tensor.Arange(rank * 32, (rank + 1) * 32, 1, ScalarType.Float32).DetachFromDisposeScope()).ToArray();
        try
        {
            var ranks = Enumerable.Range(0, 2).Select(rank => new CheckpointContents(step, rank, 2, "config",
                [new ShardedTensorSpec("w", TensorKind.Model, [64], ScalarType.Float32, rank * 32, (rank + 1) * 32, halves[rank])])).ToList();
            await writer.WriteWorldAsync(ranks);
        }
        finally
        {
            foreach (var half in halves)
            {
                half.Dispose();
            }
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries));
}
