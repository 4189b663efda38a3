using Sora.Checkpoint.Stores;
using Sora.Distributed.Configuration;
using Sora.Distributed.Store;

namespace Sora.Distributed.Tests.Store;

/// <summary>Where a launched job's generated dataset lives: in its store whenever another node (or a later pod) must read it.</summary>
public sealed class JobStoreTests
{
    private static readonly DataConfig Generated = new() { Source = DataSource.Parquet, Path = "data/moving-shapes-tiny", Generate = true, Samples = 64, HeldOut = 4 };

    [Fact]
    public void A_generated_dataset_stays_at_data_path_on_one_node_with_a_directory_store()
    {
        var store = new JobStore(new LocalDirectoryStore(Path.GetTempPath()), "/jobs/tiny");

        var (data, inStore) = store.PlaceData(Generated, seed: 0, multiNode: false);

        data.Should().Be(Generated);
        inStore.Should().BeFalse();
    }

    [Fact]
    public void A_generated_dataset_of_a_multi_node_job_goes_into_the_store_under_a_name_of_its_contents()
    {
        var store = new JobStore(new LocalDirectoryStore(Path.GetTempPath()), "/jobs/tiny");

        var (data, inStore) = store.PlaceData(Generated, seed: 0, multiNode: true);
        var (other, _) = store.PlaceData(Generated, seed: 1, multiNode: true);
        var (more, _) = store.PlaceData(Generated with { Samples = 65 }, seed: 0, multiNode: true);

        inStore.Should().BeTrue();
        data.Path.Should().MatchRegex(@"^/jobs/tiny/data/moving-shapes-tiny-[0-9a-f]{12}$");
        new[] { other.Path, more.Path }.Should().OnlyHaveUniqueItems().And.NotContain(data.Path, "another seed or size is another dataset");
        store.PlaceData(Generated, seed: 0, multiNode: true).Data.Path.Should().Be(data.Path, "the name is stable across processes");
    }

    [Fact]
    public void A_blob_store_holds_the_generated_dataset_even_on_one_node_and_keeps_a_sas_after_the_path()
    {
        var store = new JobStore(new LocalDirectoryStore(Path.GetTempPath()), "https://acct.blob.core.windows.net/sora/jobs/tiny?sv=1&sig=x", Sora.Data.Storage.AzureCredentialKind.Sas);

        var (data, inStore) = store.PlaceData(Generated, seed: 0, multiNode: false);

        inStore.Should().BeTrue();
        data.Path.Should().MatchRegex(@"^https://acct\.blob\.core\.windows\.net/sora/jobs/tiny/data/moving-shapes-tiny-[0-9a-f]{12}\?sv=1&sig=x$");
        data.Credential.Should().Be(Sora.Data.Storage.AzureCredentialKind.Sas, "the data inside the store is read as the store is");
        store.DisplayLocation.Should().NotContain("sig=");
    }

    [Theory]
    [InlineData(false, "data/x")]
    [InlineData(true, "az://datasets/x")]
    public void A_dataset_the_job_does_not_generate_or_that_is_already_in_blob_storage_is_read_where_the_job_names_it(bool generate, string path)
    {
        var store = new JobStore(new LocalDirectoryStore(Path.GetTempPath()), "az://sora/jobs/tiny");
        var given = Generated with { Generate = generate, Path = path };

        store.PlaceData(given, seed: 0, multiNode: true).Should().Be((given, false));
    }
}
