namespace Sora.Checkpoint.Stores;

/// <summary>Opens the checkpoint store a job's <c>checkpoint.store</c> or a CLI option names: a local directory or a blob container.</summary>
public static class CheckpointStores
{
    /// <summary>
    /// A store at <paramref name="store"/>: a blob location (<c>az://container</c>, or the container's URL), authorized
    /// as <paramref name="credential"/> says, or else a local directory. A blob location for checkpoints names a
    /// container only: the checkpoints' own folder (<c>dit/checkpoints</c>) is the prefix inside it.
    /// </summary>
    /// <exception cref="ArgumentException">The location is malformed, has a prefix, or does not fit the credential.</exception>
    public static ICheckpointStore Open(string store, AzureCredentialKind credential = AzureCredentialKind.Auto, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(store);
        if (!AzureBlobLocation.IsBlobLocation(store))
        {
            return credential == AzureCredentialKind.Auto
                ? new LocalDirectoryStore(Path.GetFullPath(store))
                : throw new ArgumentException($"'{store}' is a local directory: a credential ('{AzureBlobLocation.Kebab(credential)}') applies to blob locations only", nameof(credential));
        }

        var location = ParseContainer(store, credential);
        return location.OpenStore(environment: environment);
    }

    /// <summary>Parses a blob location for checkpoints (a container, no prefix); errors name the location, never a secret.</summary>
    public static AzureBlobLocation ParseContainer(string store, AzureCredentialKind credential = AzureCredentialKind.Auto)
    {
        var location = AzureBlobLocation.Parse(store, credential);
        return location.Prefix.Length == 0
            ? location
            : throw new ArgumentException($"'{location.Text}': a checkpoint store is a whole container (az://<container> or its URL); drop the prefix '{location.Prefix}'", nameof(store));
    }
}
