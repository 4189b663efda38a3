using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>Blob locations as YAML and the CLI write them, and the stores they open against a real Azurite.</summary>
public sealed class AzureBlobLocationTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData("az://datasets/moving/shapes", "datasets", "moving/shapes/", AzureCredentialKind.ConnectionString)]
    [InlineData("az://datasets", "datasets", "", AzureCredentialKind.ConnectionString)]
    [InlineData("https://acct.blob.core.windows.net/datasets/v1/", "datasets", "v1/", AzureCredentialKind.Default)]
    [InlineData("https://acct.blob.core.windows.net/datasets/v1?sv=2025-11-05&sig=abc", "datasets", "v1/", AzureCredentialKind.Sas)]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/datasets/a/b", "datasets", "a/b/", AzureCredentialKind.Default)]
    public void Locations_split_into_container_prefix_and_credential(string text, string container, string prefix, AzureCredentialKind credential)
    {
        var location = AzureBlobLocation.Parse(text);

        location.Container.Should().Be(container);
        location.Prefix.Should().Be(prefix);
        location.Credential.Should().Be(credential);
        location.Text.Should().NotContain("sig=", "the SAS is a secret and Text goes into messages");
        AzureBlobLocation.IsBlobLocation(text).Should().BeTrue();
    }

    [Theory]
    [InlineData("data/moving-shapes")]
    [InlineData("/abs/path")]
    [InlineData("C:/x")]
    public void Local_paths_are_not_blob_locations(string path) => AzureBlobLocation.IsBlobLocation(path).Should().BeFalse();

    [Theory]
    [InlineData("az://Bad_Container/x", "*Bad_Container*container name*")]
    [InlineData("https://acct.blob.core.windows.net/", "*names no container*")]
    [InlineData("https://acct.blob.core.windows.net/c1x/a//b", "*c1x/a//b*empty segment*")]
    public void Bad_locations_are_refused_with_a_message_naming_them(string text, string message) =>
        FluentActions.Invoking(() => AzureBlobLocation.Parse(text)).Should().Throw<ArgumentException>().WithMessage(message);

    [Fact]
    public void A_credential_that_does_not_fit_the_location_is_refused()
    {
        FluentActions.Invoking(() => AzureBlobLocation.Parse("az://data/x", AzureCredentialKind.Default)).Should().Throw<ArgumentException>().WithMessage("*https://<account>.blob.core.windows.net/data/x*");
        FluentActions.Invoking(() => AzureBlobLocation.Parse("https://a.blob.core.windows.net/data/x", AzureCredentialKind.Sas)).Should().Throw<ArgumentException>().WithMessage("*SAS query*");
        FluentActions.Invoking(() => AzureBlobLocation.ParseCredential("managed")).Should().Throw<ArgumentException>().WithMessage("*'managed'*default*");
        AzureBlobLocation.ParseCredential("shared-key").Should().Be(AzureCredentialKind.SharedKey);
    }

    [Fact]
    public void Default_credential_needs_https_and_a_missing_secret_names_its_variable()
    {
        var overHttp = AzureBlobLocation.Parse($"{fixture.Azurite.BlobEndpoint}/data/x", AzureCredentialKind.Default);
        FluentActions.Invoking(() => overHttp.OpenStore()).Should().Throw<ArgumentException>().WithMessage("*https*bearer token*");

        using var overHttps = AzureBlobLocation.Parse("https://acct.blob.core.windows.net/data/x", AzureCredentialKind.Default).OpenStore();
        overHttps.Authentication.Should().Be("token credential (DefaultAzureCredential)");

        var keyed = AzureBlobLocation.Parse($"{fixture.Azurite.BlobEndpoint}/data/x", AzureCredentialKind.SharedKey);
        FluentActions.Invoking(() => keyed.OpenStore(environment: _ => null)).Should().Throw<InvalidOperationException>().WithMessage($"*{AzureBlobLocation.AccountKeyVariable}*");
    }

    [Fact]
    public async Task An_az_location_and_a_shared_key_url_reach_the_same_container()
    {
        var container = "c" + Guid.NewGuid().ToString("N");
        string? Environment(string name) => name switch
        {
            AzureBlobLocation.ConnectionStringVariable => fixture.Azurite.ConnectionString,
            AzureBlobLocation.AccountKeyVariable => AzuriteProcess.DevelopmentAccountKey,
            _ => null,
        };
        using var viaConnection = AzureBlobLocation.Parse($"az://{container}/p").OpenStore(environment: Environment);
        using var viaKey = AzureBlobLocation.Parse($"{fixture.Azurite.BlobEndpoint}/{container}/p", AzureCredentialKind.SharedKey).OpenStore(environment: Environment);

        await viaConnection.PutBytesAsync("p/x", new byte[] { 1, 2, 3 });

        (await viaKey.ReadAllBytesAsync("p/x")).Should().Equal(1, 2, 3);
        viaKey.Location.Should().Be($"{fixture.Azurite.BlobEndpoint}/{container}");
    }
}
