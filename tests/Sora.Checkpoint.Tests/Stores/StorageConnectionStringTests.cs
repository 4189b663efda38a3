using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

public sealed class StorageConnectionStringTests
{
    [Fact]
    public void Development_storage_means_azurite_on_its_default_port_with_the_development_account()
    {
        var parsed = StorageConnectionString.Parse("UseDevelopmentStorage=true");

        parsed.BlobEndpoint.Should().Be(new Uri("http://127.0.0.1:10000/devstoreaccount1"));
        parsed.Credential.Should().BeOfType<SharedKeyCredential>().Which.AccountName.Should().Be("devstoreaccount1");
    }

    [Fact]
    public void Development_storage_honours_a_proxy_host()
    {
        StorageConnectionString.Parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite")
            .BlobEndpoint.Should().Be(new Uri("http://azurite:10000/devstoreaccount1"));
    }

    [Fact]
    public void Account_name_and_key_derive_the_public_endpoint_from_protocol_and_suffix()
    {
        var key = Convert.ToBase64String(new byte[] { 1, 2, 3 });

        var parsed = StorageConnectionString.Parse($"DefaultEndpointsProtocol=https;AccountName=sorackpt;AccountKey={key};EndpointSuffix=core.chinacloudapi.cn");

        parsed.BlobEndpoint.Should().Be(new Uri("https://sorackpt.blob.core.chinacloudapi.cn"));
        parsed.Credential.Should().BeOfType<SharedKeyCredential>().Which.AccountName.Should().Be("sorackpt");
        StorageConnectionString.Parse($"AccountName=a1;AccountKey={key}").BlobEndpoint.Should().Be(new Uri("https://a1.blob.core.windows.net"));
    }

    [Fact]
    public void An_explicit_blob_endpoint_wins_and_a_sas_is_a_credential()
    {
        var parsed = StorageConnectionString.Parse("BlobEndpoint=http://127.0.0.1:12345/devstoreaccount1; SharedAccessSignature=sv=2020-12-06&sig=abc%3D;");

        parsed.BlobEndpoint.Should().Be(new Uri("http://127.0.0.1:12345/devstoreaccount1"));
        parsed.Credential.Should().BeOfType<SasCredential>().Which.Token.Should().Be("sv=2020-12-06&sig=abc%3D");
    }

    [Theory]
    [InlineData("AccountKey=AAAA", "*AccountName is missing*")]
    [InlineData("AccountName=a", "*needs AccountName and AccountKey*")]
    [InlineData("AccountName=a;AccountKey=AAAA;DefaultEndpointsProtocol=ftp", "*DefaultEndpointsProtocol*ftp*")]
    [InlineData("AccountName=a;AccountKey=AAAA;Colour=blue", "*unknown setting 'Colour'*")]
    [InlineData("AccountName=a;AccountKey=AAAA;AccountName=b", "*'AccountName' appears twice*")]
    [InlineData("UseDevelopmentStorage=false", "*UseDevelopmentStorage must be 'true'*")]
    [InlineData("BlobEndpoint=not a url;SharedAccessSignature=sig=x", "*BlobEndpoint 'not a url'*")]
    [InlineData("justtext", "*'justtext' is not a Key=Value setting*")]
    public void Bad_connection_strings_fail_naming_the_setting(string connectionString, string message)
    {
        var parse = () => StorageConnectionString.Parse(connectionString);

        parse.Should().Throw<FormatException>().WithMessage(message);
    }

    [Fact]
    public void A_key_that_is_not_base64_fails_without_showing_the_key()
    {
        var parse = () => StorageConnectionString.Parse("AccountName=acct;AccountKey=s3cret!!not-base64");

        parse.Should().Throw<ArgumentException>().WithMessage("*account key of storage account 'acct' is not valid base64*")
            .Which.Message.Should().NotContain("s3cret");
    }
}
