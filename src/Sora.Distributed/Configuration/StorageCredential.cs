using Sora.Data.Storage;

namespace Sora.Distributed.Configuration;

/// <summary>The <c>credential</c> key beside a storage location (<c>data.path</c>, <c>checkpoint.store</c>).</summary>
internal static class StorageCredential
{
    /// <summary>
    /// Reads <paramref name="key"/> (one of <see cref="AzureBlobLocation.CredentialNames"/>, default auto) and checks it
    /// fits <paramref name="location"/> (the value of <paramref name="locationKey"/>): a local path takes none, and a blob location must accept it.
    /// </summary>
    public static AzureCredentialKind Read(YamlSection section, string key, string locationKey, string? location)
    {
        var names = AzureBlobLocation.CredentialNames.ToArray();
        var credential = AzureBlobLocation.ParseCredential(section.Choice(key, "auto", names));
        if (!AzureBlobLocation.IsBlobLocation(location))
        {
            return credential == AzureCredentialKind.Auto
                ? credential
                : throw section.Invalid(key, $"applies to a blob location (az://... or https://...); '{location ?? "(the default directory)"}' is a local path");
        }

        try
        {
            AzureBlobLocation.Parse(location!, credential);
        }
        catch (ArgumentException e)
        {
            // The message names the location without its SAS query and says what does not fit.
            throw section.Invalid(credential == AzureCredentialKind.Auto ? locationKey : key, e.Message.Split(" (Parameter", 2)[0]);
        }

        return credential;
    }
}
