using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// A checkpoint store in one Azure Blob Storage container (or Azurite), through the Azure.Storage.Blobs SDK: an
/// object that fits in one block goes up as one Put Blob, a larger one as parallel Put Block requests and a Put
/// Block List (the SDK's transfer options), so a failed upload leaves only uncommitted blocks and the previous
/// blob intact. Reads fetch parallel ranges pinned to one ETag. Retries with backoff, transport and
/// authorization (connection string, Shared Key, SAS, or a token credential such as DefaultAzureCredential) are
/// the SDK's.
/// </summary>
public sealed partial class AzureBlobStore : ICheckpointStore, IDisposable
{
    private readonly BlobContainerClient _container;
    private readonly AzureBlobStoreOptions _settings;
    private readonly SemaphoreSlim _containerCreation = new(1, 1);
    private volatile bool _containerChecked;

    /// <summary>A store in <paramref name="containerName"/> at <paramref name="blobEndpoint"/>, authorized with the account key.</summary>
    public AzureBlobStore(Uri blobEndpoint, string containerName, StorageSharedKeyCredential credential, AzureBlobStoreOptions? options = null)
        : this(ContainerUri(blobEndpoint, containerName), options, (uri, o) => new BlobContainerClient(uri, credential ?? throw new ArgumentNullException(nameof(credential)), o), $"Shared Key of account '{credential?.AccountName}'")
    {
    }

    /// <summary>A store authorized with a shared access signature (account or container SAS).</summary>
    public AzureBlobStore(Uri blobEndpoint, string containerName, AzureSasCredential credential, AzureBlobStoreOptions? options = null)
        : this(ContainerUri(blobEndpoint, containerName), options, (uri, o) => new BlobContainerClient(uri, credential ?? throw new ArgumentNullException(nameof(credential)), o), "SAS token")
    {
    }

    /// <summary>
    /// A store authorized with Microsoft Entra ID tokens: <c>new DefaultAzureCredential()</c> covers workload identity,
    /// managed identity and the Azure CLI. The endpoint must be https (the SDK never sends a bearer token in the clear).
    /// </summary>
    public AzureBlobStore(Uri blobEndpoint, string containerName, TokenCredential credential, AzureBlobStoreOptions? options = null)
        : this(HttpsContainerUri(blobEndpoint, containerName), options, (uri, o) => new BlobContainerClient(uri, credential ?? throw new ArgumentNullException(nameof(credential)), o), $"token credential ({credential?.GetType().Name})")
    {
    }

    /// <summary>A store at a container URL that carries its own authorization (a SAS query) or none (a public container).</summary>
    public AzureBlobStore(Uri containerUri, AzureBlobStoreOptions? options = null)
        : this(containerUri, options, (uri, o) => new BlobContainerClient(uri, o), containerUri?.Query.Contains("sig=", StringComparison.Ordinal) == true ? "SAS token" : "anonymous")
    {
    }

    private AzureBlobStore(Uri containerUri, AzureBlobStoreOptions? options, Func<Uri, BlobClientOptions, BlobContainerClient> create, string authentication)
    {
        ArgumentNullException.ThrowIfNull(containerUri);
        options ??= new AzureBlobStoreOptions();
        options.Validate();
        _settings = options;
        _container = create(containerUri, options);
        ValidateContainerName(_container.Name);
        Authentication = authentication;
    }

    private AzureBlobStore(BlobContainerClient container, AzureBlobStoreOptions options, string authentication)
    {
        ValidateContainerName(container.Name);
        _settings = options;
        _container = container;
        Authentication = authentication;
    }

    /// <summary>The container all objects live in.</summary>
    public string ContainerName => _container.Name;

    /// <summary>How requests are authorized, in words (never the secret itself).</summary>
    public string Authentication { get; }

    /// <inheritdoc/>
    public string Location => _container.Uri.GetLeftPart(UriPartial.Path);

    /// <summary>
    /// A store from an Azure Storage connection string (account key, SAS or <c>UseDevelopmentStorage=true</c>),
    /// parsed by the SDK. The error for a malformed one never repeats the string, which holds a secret.
    /// </summary>
    public static AzureBlobStore FromConnectionString(string connectionString, string containerName, AzureBlobStoreOptions? options = null)
    {
        options ??= new AzureBlobStoreOptions();
        options.Validate();
        return new AzureBlobStore(AzureBlobLocation.ContainerFromConnectionString(connectionString, containerName, options), options, "connection string");
    }

    /// <summary>A store over the container of <paramref name="location"/>, authorized as the location says (see <see cref="AzureBlobLocation.OpenContainer"/>).</summary>
    public static AzureBlobStore Open(AzureBlobLocation location, AzureBlobStoreOptions? options = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        options ??= new AzureBlobStoreOptions();
        options.Validate();
        var (container, authentication) = location.OpenContainer(options, environment);
        return new AzureBlobStore(container, options, authentication);
    }

    /// <summary>Throws unless <paramref name="containerName"/> follows Azure's rules (see <see cref="AzureBlobLocation.ValidateContainerName"/>).</summary>
    public static void ValidateContainerName(string containerName) => AzureBlobLocation.ValidateContainerName(containerName);

    /// <inheritdoc/>
    public async Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var knownLength = content.CanSeek ? content.Length - content.Position : (long?)null;
        if (!condition.IsNone && (knownLength is null || knownLength > _settings.BlockSize))
        {
            // Fail before uploading blocks that could never be committed; Put Block List still enforces the condition.
            await CheckConditionAsync(name, condition, cancellationToken).ConfigureAwait(false);
        }

        var counted = knownLength is null ? new CountingStream(content) : null;
        var options = new BlobUploadOptions
        {
            TransferOptions = new StorageTransferOptions
            {
                // The SDK sends one Put Blob below this size: +1 makes an object of exactly one block a single Put Blob.
                InitialTransferSize = _settings.BlockSize + 1L,
                MaximumTransferSize = _settings.BlockSize,
                MaximumConcurrency = _settings.Parallelism,
            },
            Conditions = condition.MustNotExist ? new BlobRequestConditions { IfNoneMatch = ETag.All }
                : condition.ExpectedETag is { } etag ? new BlobRequestConditions { IfMatch = new ETag(etag) }
                : null,
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
        };
        var blob = _container.GetBlobClient(name);
        BlobContentInfo info;
        try
        {
            info = await CallAsync("Put Blob", name, () => blob.UploadAsync(counted ?? content, options, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStoreException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound.ToString())
        {
            // The container went away after this store saw it: the next write creates it again.
            _containerChecked = false;
            throw;
        }
        catch (CheckpointStoreException e) when (!condition.IsNone && (e.HttpStatus == 412 || e.ErrorCode == BlobErrorCode.BlobAlreadyExists.ToString()))
        {
            throw new PreconditionFailedException($"Put Blob of blob '{name}' in {Location} failed its condition ({condition}): HTTP {e.HttpStatus} {e.ErrorCode}", name, e.HttpStatus, e.ErrorCode, e);
        }

        return new StoredObject(name, knownLength ?? counted!.Count, ETagText(info.ETag), info.LastModified);
    }

    /// <inheritdoc/>
    public async Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var first = await GetRangeAsync(name, 0, _settings.DownloadRangeSize, ifMatch: null, cancellationToken).ConfigureAwait(false);
        var properties = new StoredObject(name, first.TotalLength, first.ETag, first.LastModified);
        if (first.Data.Length >= first.TotalLength)
        {
            var whole = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(first.Data, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(first.Data.ToArray(), writable: false);
            return new StoredObjectStream(whole, properties);
        }

        var ranges = new BlobRangeReadStream(first.Data, first.TotalLength, _settings.DownloadRangeSize, _settings.Parallelism, async (offset, count, ct) =>
        {
            var range = await GetRangeAsync(name, offset, count, first.ETag, ct).ConfigureAwait(false);
            if (range.Data.Length != count)
            {
                throw new CheckpointStoreException($"ranged Get of blob '{name}' in {Location} returned {range.Data.Length} bytes at offset {offset}, expected {count}", name);
            }

            return range.Data;
        });
        return new StoredObjectStream(ranges, properties);
    }

    /// <summary>
    /// Reads <paramref name="count"/> bytes at <paramref name="offset"/> of one version of the blob (pinned by
    /// <paramref name="ifMatch"/> when given): what a Parquet reader of a shard in the container needs.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> ReadRangeAsync(string name, long offset, int count, string? ifMatch, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return (await GetRangeAsync(name, offset, count, ifMatch, cancellationToken).ConfigureAwait(false)).Data;
    }

    /// <inheritdoc/>
    public async Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var blob = _container.GetBlobClient(name);
        try
        {
            BlobProperties properties = await CallAsync("Get Blob Properties", name, () => blob.GetPropertiesAsync(cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
            return new StoredObject(name, properties.ContentLength, ETagText(properties.ETag), properties.LastModified);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken).AsPages(pageSizeHint: _settings.ListPageSize);
        var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await CallAsync("List Blobs", null, async () => await enumerator.MoveNextAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }
                catch (CheckpointStoreException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound.ToString())
                {
                    yield break; // no container, no objects
                }

                if (!more)
                {
                    yield break;
                }

                foreach (var item in enumerator.Current.Values)
                {
                    var size = item.Properties.ContentLength ?? 0;
                    var etag = item.Properties.ETag is { } e ? ETagText(e) : string.Empty;
                    yield return new StoredObject(item.Name, size, etag, item.Properties.LastModified ?? DateTimeOffset.MinValue);
                }
            }
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var blob = _container.GetBlobClient(name);
        var deleted = await CallAsync("Delete Blob", name, () => blob.DeleteIfExistsAsync(cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        return deleted.Value;
    }

    /// <summary>Creates the container; returns false when it already existed.</summary>
    public async Task<bool> CreateContainerIfMissingAsync(CancellationToken cancellationToken = default)
    {
        var created = await CallAsync("Create Container", null, async () => await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        _containerChecked = true;
        return created is not null;
    }

    /// <summary>Deletes the container and everything in it; returns false when it did not exist.</summary>
    public async Task<bool> DeleteContainerAsync(CancellationToken cancellationToken = default)
    {
        var deleted = await CallAsync("Delete Container", null, () => _container.DeleteIfExistsAsync(cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        _containerChecked = false;
        return deleted.Value;
    }

    /// <inheritdoc/>
    public void Dispose() => _containerCreation.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Location} ({Authentication})";

    private static Uri ContainerUri(Uri blobEndpoint, string containerName)
    {
        ArgumentNullException.ThrowIfNull(blobEndpoint);
        ValidateContainerName(containerName);
        var builder = new UriBuilder(blobEndpoint);
        builder.Path = builder.Path.TrimEnd('/') + "/" + containerName;
        return builder.Uri;
    }

    private static Uri HttpsContainerUri(Uri blobEndpoint, string containerName) => AzureBlobLocation.RequireHttps(ContainerUri(blobEndpoint, containerName));

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerChecked || !_settings.CreateContainerIfMissing)
        {
            return;
        }

        await _containerCreation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_containerChecked)
            {
                await CreateContainerIfMissingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (CheckpointStoreException e) when (e.HttpStatus == 403)
        {
            // A container-scoped SAS may write blobs but not create containers: the writes themselves will say
            // whether the container is really missing.
            _containerChecked = true;
        }
        finally
        {
            _containerCreation.Release();
        }
    }

    private async Task CheckConditionAsync(string name, PutCondition condition, CancellationToken cancellationToken)
    {
        var current = await GetPropertiesAsync(name, cancellationToken).ConfigureAwait(false);
        var holds = condition.MustNotExist ? current is null : current is not null && current.ETag == condition.ExpectedETag;
        if (!holds)
        {
            var state = current is null ? "does not exist" : $"exists with ETag {current.ETag}";
            throw new PreconditionFailedException($"blob '{name}' in {Location} {state}, so the put's condition ({condition}) fails; no block was uploaded", name);
        }
    }
}
