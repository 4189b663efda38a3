using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>Token shape and argument checks; that Azurite accepts the signatures is tested in <see cref="AzureBlobStoreTests"/>.</summary>
public sealed class SharedAccessSignatureTests
{
    private static readonly SharedKeyCredential Key = new(StorageConnectionString.DevelopmentAccountName, StorageConnectionString.DevelopmentAccountKey);

    [Fact]
    public void A_container_token_carries_version_resource_permissions_expiry_and_signature()
    {
        var token = SharedAccessSignature.ForContainer(Key, "ckpts", "rl", new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));

        var parameters = token.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        parameters.Should().ContainKeys("sv", "sr", "sp", "se", "spr", "sig").And.NotContainKey("st");
        parameters["sr"].Should().Be("c");
        parameters["sp"].Should().Be("rl");
        parameters["se"].Should().Be("2030-01-02T03:04:05Z");
        Convert.FromBase64String(parameters["sig"]).Should().HaveCount(32);
    }

    [Fact]
    public void Different_permissions_sign_differently()
    {
        var expiry = DateTimeOffset.UtcNow.AddHours(1);
        static string Sig(string token) => token.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal));

        Sig(SharedAccessSignature.ForAccount(Key, "rl", expiry)).Should().NotBe(Sig(SharedAccessSignature.ForAccount(Key, "rwl", expiry)));
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("rr")]
    [InlineData("rq")]
    public void Permissions_out_of_order_or_unknown_are_rejected(string permissions)
    {
        var build = () => SharedAccessSignature.ForAccount(Key, permissions, DateTimeOffset.UtcNow.AddHours(1));

        build.Should().Throw<ArgumentException>().WithMessage($"*'{permissions}'*");
    }

    [Fact]
    public void Container_names_are_checked()
    {
        var build = () => SharedAccessSignature.ForContainer(Key, "Bad_Name", "r", DateTimeOffset.UtcNow.AddHours(1));

        build.Should().Throw<ArgumentException>().WithMessage("*'Bad_Name'*");
    }
}
