using Sora.Checkpoint.Stores;
using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>
/// The coordinator's view of a job's store: where the job is (the furthest stage with a checkpoint, and whether the run's
/// outputs are published), and the round markers of the shared-directory proof (written into a directory store, none for a blob store).
/// </summary>
public sealed class StoreCheckpointLedgerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-ledger-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_directory_store_gets_one_marker_per_round_with_a_new_nonce_and_only_the_latest_is_kept()
    {
        var ledger = new StoreCheckpointLedger(new LocalDirectoryStore(_directory), "vae/checkpoints", "dit/checkpoints");
        var third = (await ledger.WriteRoundMarkerAsync(3))!;
        third.Path.Should().Be(Path.Combine(_directory, "control", "round-3.nonce"));
        (await File.ReadAllTextAsync(third.Path)).Should().Be(third.Nonce);

        var fourth = (await ledger.WriteRoundMarkerAsync(4))!;
        fourth.Nonce.Should().NotBe(third.Nonce);
        File.Exists(third.Path).Should().BeFalse("an ended round's marker is removed");
        (await File.ReadAllTextAsync(fourth.Path)).Should().Be(fourth.Nonce);
    }

    [Fact]
    public async Task The_job_is_at_its_furthest_stage_and_complete_only_once_its_run_outputs_are_published()
    {
        var store = new LocalDirectoryStore(_directory);
        var ledger = new StoreCheckpointLedger(store, "vae/checkpoints", "dit/checkpoints");
        (await ledger.ReadAsync()).Should().BeNull("nothing was ever fenced or committed");
        await ledger.FenceAsync(1);
        await store.PutBytesAsync("vae/checkpoints/latest", System.Text.Encoding.UTF8.GetBytes("{\"step\":8,\"manifest\":\"vae/checkpoints/step-000000008/manifest.json\",\"round\":1}"));

        var inVae = (await ledger.ReadAsync())!;
        await store.PutBytesAsync("dit/checkpoints/latest", System.Text.Encoding.UTF8.GetBytes("{\"step\":100,\"manifest\":\"dit/checkpoints/step-000000100/manifest.json\",\"round\":1}"));
        var final = (await ledger.ReadAsync())!;
        await store.PutBytesAsync("run/summary.json", "{}"u8.ToArray());
        var published = (await ledger.ReadAsync())!;

        (inVae.Stage, inVae.Step).Should().Be(("vae", 8L));
        (final.Stage, final.Step, final.RunPublished).Should().Be(("dit", 100L, false), "the final checkpoint is committed before the run's outputs are published");
        published.RunPublished.Should().BeTrue();
    }

    [Fact]
    public async Task A_store_that_is_not_a_directory_has_no_marker() =>
        (await new StoreCheckpointLedger(new NotADirectory(), "dit/checkpoints").WriteRoundMarkerAsync(1)).Should().BeNull();

    /// <summary>A store every node reaches by its location (a blob container): it is never written for a marker.</summary>
    private sealed class NotADirectory : ICheckpointStore
    {
        public string Location => "az://container/job";

        public Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default) => throw new NotSupportedException(name);

        public Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException(name);

        public Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException(name);

        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken = default) => throw new NotSupportedException(prefix);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException(name);
    }
}
