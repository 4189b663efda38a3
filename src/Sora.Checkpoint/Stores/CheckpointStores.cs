namespace Sora.Checkpoint.Stores;

/// <summary>Opens the checkpoint store a job's <c>checkpoint.store</c> or a CLI option names: a local directory or a blob container.</summary>
public static class CheckpointStores
{
    /// <summary>
    /// A store at <paramref name="store"/>: a blob location (<c>az://container[/prefix]</c>, or the container's URL with an
    /// optional prefix path), authorized as <paramref name="credential"/> says, or else a local directory. With a prefix,
    /// the store is that prefix of the container (<see cref="PrefixedStore"/>): one job's objects under it.
    /// </summary>
    /// <param name="store">The location.</param>
    /// <param name="credential">How a blob location is authorized.</param>
    /// <param name="environment">Where the credential's variables are read (default: the process's environment).</param>
    /// <param name="options">A blob store's settings (transfer sizes, retries, the SDK's transport); default: <see cref="AzureBlobStoreOptions"/>'s.</param>
    /// <exception cref="ArgumentException">The location is malformed or does not fit the credential.</exception>
    public static ICheckpointStore Open(string store, AzureCredentialKind credential = AzureCredentialKind.Auto, Func<string, string?>? environment = null,
        AzureBlobStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(store);
        if (!AzureBlobLocation.IsBlobLocation(store))
        {
            return credential == AzureCredentialKind.Auto
                ? new LocalDirectoryStore(Path.GetFullPath(store))
                : throw new ArgumentException($"'{store}' is a local directory: a credential ('{AzureBlobLocation.Kebab(credential)}') applies to blob locations only", nameof(credential));
        }

        var location = AzureBlobLocation.Parse(store, credential);
        var container = location.OpenStore(options, environment);
        return location.Prefix.Trim('/') is { Length: > 0 } prefix ? new PrefixedStore(container, prefix) : container;
    }
}
