using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>
/// A job's store as a prefix of a container (<c>az://container/jobs/a</c>): the store contract holds inside the prefix,
/// and the objects really live under it in the container, apart from another job's prefix.
/// </summary>
public sealed class PrefixedStoreTests(AzuriteFixture fixture) : CheckpointStoreContractTests, IClassFixture<AzuriteFixture>
{
    private readonly string _container = "p" + Guid.NewGuid().ToString("N");

    protected override ICheckpointStore CreateStore() => Open("jobs/a");

    [Fact]
    public async Task A_blob_location_with_a_prefix_opens_that_prefix_of_the_container_and_lists_names_relative_to_it()
    {
        var a = Open("jobs/a");
        var b = Open("jobs/b");
        await a.PutBytesAsync("dit/checkpoints/latest", "{}"u8.ToArray());
        await b.PutBytesAsync("dit/checkpoints/latest", "[]"u8.ToArray());

        a.Should().BeOfType<PrefixedStore>().Which.Location.Should().EndWith($"/{_container}/jobs/a");
        (await ListNamesOf(a, "")).Should().Equal("dit/checkpoints/latest");
        (await a.ReadAllBytesAsync("dit/checkpoints/latest")).Should().Equal("{}"u8.ToArray());
        (await b.ReadAllBytesAsync("dit/checkpoints/latest")).Should().Equal("[]"u8.ToArray());
        var whole = AzureBlobStore.FromConnectionString(fixture.Azurite.ConnectionString, _container);
        (await ListNamesOf(whole, "")).Should().Equal("jobs/a/dit/checkpoints/latest", "jobs/b/dit/checkpoints/latest");
    }

    private ICheckpointStore Open(string prefix) =>
        CheckpointStores.Open($"az://{_container}/{prefix}", Sora.Data.Storage.AzureCredentialKind.ConnectionString,
            name => name == Sora.Data.Storage.AzureBlobLocation.ConnectionStringVariable ? fixture.Azurite.ConnectionString : null);
}
