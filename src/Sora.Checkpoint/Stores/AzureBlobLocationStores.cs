
namespace Sora.Checkpoint.Stores;

/// <summary>Checkpoint stores at the blob locations a job's <c>checkpoint.store</c> or the CLI names.</summary>
public static class AzureBlobLocationStores
{
    /// <summary>A store over the location's container (<see cref="AzureBlobStore.Open"/>).</summary>
    public static AzureBlobStore OpenStore(this AzureBlobLocation location, AzureBlobStoreOptions? options = null, Func<string, string?>? environment = null) =>
        AzureBlobStore.Open(location, options, environment);
}
