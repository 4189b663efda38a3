using Sora.Checkpoint.Stores;
using Sora.Data.Storage;

namespace Sora.Distributed.Configuration;

/// <summary>The job's checkpoints under <c>sora launch</c> (the <c>checkpoint:</c> section): where, how often, and what is kept.</summary>
public sealed record CheckpointConfig
{
    /// <summary>The checkpoint directory or blob container (<c>az://container</c> or its URL); null: <c>&lt;output&gt;/checkpoints</c>.</summary>
    public string? Store { get; init; }

    /// <summary>How a blob <see cref="Store"/> is authorized (<c>checkpoint.credential</c>).</summary>
    public AzureCredentialKind Credential { get; init; } = AzureCredentialKind.Auto;

    /// <summary>Whether <see cref="Store"/> names blob storage.</summary>
    public bool IsBlob => AzureBlobLocation.IsBlobLocation(Store);

    /// <summary>Save the DiT stage after every this many steps (0: never; a failure then restarts from scratch).</summary>
    public long Every { get; init; } = 500;

    /// <summary>Retention: the newest this many are kept (0: all).</summary>
    public int KeepLast { get; init; } = 3;

    /// <summary>Retention: and every checkpoint whose step is a multiple of this (0: none).</summary>
    public long KeepEvery { get; init; }

    /// <summary>The store of a job writing to <paramref name="output"/>: the blob location as written, or the directory's full path.</summary>
    public string StoreOf(string output) => IsBlob ? Store! : Path.GetFullPath(Store ?? Path.Combine(output, "checkpoints"));

    /// <summary>Opens the store of a job writing to <paramref name="output"/>.</summary>
    public ICheckpointStore OpenStore(string output) => CheckpointStores.Open(StoreOf(output), Credential);

    public static CheckpointConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new CheckpointConfig();
        var store = section.OptionalString("store");
        var credential = StorageCredential.Read(section, "credential", "store", store);
        if (AzureBlobLocation.IsBlobLocation(store))
        {
            try
            {
                AzureBlobLocation.Parse(store!, credential);
            }
            catch (ArgumentException e)
            {
                throw section.Invalid("store", e.Message.Split(" (Parameter", 2)[0]);
            }
        }

        var config = new CheckpointConfig
        {
            Store = store,
            Credential = credential,
            Every = section.Long("every", defaults.Every, min: 0),
            KeepLast = section.Int("keep_last", defaults.KeepLast, min: 0),
            KeepEvery = section.Long("keep_every", defaults.KeepEvery, min: 0),
        };
        return config;
    }
}
