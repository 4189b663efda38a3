using System.CommandLine;
using Sora.Data.Storage;

namespace Sora.Cli.Commands;

/// <summary>The command-line options that name how blob storage is authorized.</summary>
internal static class StorageOptions
{
    /// <summary>A credential option (<c>auto</c>, <c>connection-string</c>, <c>sas</c>, <c>shared-key</c>, <c>default</c>, <c>anonymous</c>) for the location in <paramref name="locationOption"/>.</summary>
    public static Option<AzureCredentialKind> Credential(string name, string locationOption)
    {
        var option = new Option<AzureCredentialKind>(name)
        {
            Description = $"How a blob {locationOption} is authorized: {string.Join(", ", AzureBlobLocation.CredentialNames)} " +
                $"(auto: az:// uses {AzureBlobLocation.ConnectionStringVariable}, a URL its SAS query or else default = DefaultAzureCredential: workload identity, managed identity, Azure CLI; " +
                $"shared-key reads {AzureBlobLocation.AccountKeyVariable}).",
            DefaultValueFactory = _ => AzureCredentialKind.Auto,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? "auto" : result.Tokens[^1].Value;
                try
                {
                    return AzureBlobLocation.ParseCredential(text);
                }
                catch (ArgumentException e)
                {
                    result.AddError($"{name}: {e.Message.Split(" (Parameter", 2)[0]}");
                    return AzureCredentialKind.Auto;
                }
            },
        };
        option.AcceptOnlyFromAmong([.. AzureBlobLocation.CredentialNames]);
        return option;
    }
}
