using System.Globalization;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// A checkpoint store in one Azure Blob Storage container (or Azurite), spoken to through Azure.Core's HTTP
/// pipeline: retries with exponential backoff, logging and transport come from it, authorization from a
/// <see cref="BlobCredential"/>. Objects that fit in one block go up as one Put Blob; larger ones as parallel
/// Put Block requests and a Put Block List, so a failed upload leaves only uncommitted blocks and the previous
/// blob intact. Reads fetch parallel ranges (x-ms-range) pinned to one ETag.
/// </summary>
public sealed partial class AzureBlobStore : ICheckpointStore, IDisposable
{
    /// <summary>The most blocks one blob may have.</summary>
    private const int MaxBlocks = 50_000;

    private readonly HttpPipeline _pipeline;
    private readonly TransferSettings _settings;
    private readonly string _sasQuery;
    private readonly string _containerUrl;
    private readonly SemaphoreSlim _containerCreation = new(1, 1);

    /// <summary>
    /// A store in <paramref name="containerName"/> at <paramref name="blobEndpoint"/> (e.g.
    /// https://account.blob.core.windows.net, or http://127.0.0.1:10000/devstoreaccount1 for Azurite).
    /// </summary>
    public AzureBlobStore(Uri blobEndpoint, string containerName, BlobCredential credential, AzureBlobStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(blobEndpoint);
        ArgumentNullException.ThrowIfNull(credential);
        ValidateContainerName(containerName);
        options ??= new AzureBlobStoreOptions();
        options.Validate();
        // A snapshot: the pipeline is built once, so later changes to the options would only half apply.
        _settings = new TransferSettings(options.BlockSize, options.DownloadRangeSize, options.Parallelism, options.ListPageSize, options.CreateContainerIfMissing, options.ServiceVersion);
        ContainerName = containerName;
        Credential = credential;
        _sasQuery = credential.QueryParameters;
        _containerUrl = blobEndpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + containerName;
        var signing = credential.CreateSigningPolicy();
        _pipeline = HttpPipelineBuilder.Build(
            options,
            perCallPolicies: [],
            perRetryPolicies: signing is null ? [] : [signing],
            responseClassifier: new ResponseClassifier());
    }

    /// <summary>The container all objects live in.</summary>
    public string ContainerName { get; }

    /// <summary>How requests are authorized.</summary>
    public BlobCredential Credential { get; }

    /// <inheritdoc/>
    public string Location => _containerUrl;

    /// <summary>A store from an Azure Storage connection string (see <see cref="StorageConnectionString"/>).</summary>
    public static AzureBlobStore FromConnectionString(string connectionString, string containerName, AzureBlobStoreOptions? options = null)
    {
        var parsed = StorageConnectionString.Parse(connectionString);
        return new AzureBlobStore(parsed.BlobEndpoint, containerName, parsed.Credential, options);
    }

    /// <summary>Throws unless <paramref name="containerName"/> follows Azure's rules (3-63 of a-z, 0-9, '-'; no leading, trailing or double '-').</summary>
    public static void ValidateContainerName(string containerName)
    {
        ArgumentNullException.ThrowIfNull(containerName);
        var valid = containerName.Length is >= 3 and <= 63
            && containerName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && containerName[0] != '-' && containerName[^1] != '-'
            && !containerName.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException($"invalid container name '{containerName}': use 3-63 lowercase letters, digits and single '-' between them", nameof(containerName));
        }
    }

    /// <inheritdoc/>
    public async Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        var first = await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
        var second = Block.Empty;
        var handedOver = false;
        try
        {
            if (first.Count == _settings.BlockSize)
            {
                second = await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
            }

            if (second.Count == 0)
            {
                // The object fits in one block: one Put Blob carries the data and the condition.
                return await PutBlobAsync(name, first.Memory, condition, cancellationToken).ConfigureAwait(false);
            }

            if (!condition.IsNone)
            {
                // Fail before uploading blocks that could never be committed; Put Block List still enforces the condition.
                await CheckConditionAsync(name, condition, cancellationToken).ConfigureAwait(false);
            }

            handedOver = true;
        }
        finally
        {
            if (!handedOver)
            {
                first.Dispose();
                second.Dispose();
            }
        }

        return await PutBlocksAsync(name, content, first, second, condition, cancellationToken).ConfigureAwait(false);
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

    /// <inheritdoc/>
    public async Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var message = CreateMessage(RequestMethod.Head, name, query: null);
        var response = await SendAsync(message, "Get Blob Properties", name, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        EnsureSuccess(response, "Get Blob Properties", name);
        var size = response.Headers.TryGetValue("Content-Length", out var length) ? long.Parse(length, CultureInfo.InvariantCulture) : 0;
        return new StoredObject(name, size, ETagOf(response), LastModifiedOf(response));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        string? marker = null;
        do
        {
            var query = $"restype=container&comp=list&maxresults={_settings.ListPageSize}";
            if (prefix.Length > 0)
            {
                query += "&prefix=" + Uri.EscapeDataString(prefix);
            }

            if (marker is not null)
            {
                query += "&marker=" + Uri.EscapeDataString(marker);
            }

            XDocument page;
            using (var message = CreateMessage(RequestMethod.Get, blobName: null, query))
            {
                var response = await SendAsync(message, "List Blobs", null, cancellationToken).ConfigureAwait(false);
                if (response.Status == 404)
                {
                    yield break; // no container, no objects
                }

                EnsureSuccess(response, "List Blobs", null);
                page = XDocument.Load(response.ContentStream!);
            }

            var root = page.Root ?? throw new CheckpointStoreException($"List Blobs of {Location} returned an empty XML document");
            foreach (var blob in root.Element("Blobs")?.Elements("Blob") ?? [])
            {
                var name = blob.Element("Name")?.Value ?? throw new CheckpointStoreException($"List Blobs of {Location} returned a Blob without a Name");
                var properties = blob.Element("Properties");
                var size = long.Parse(properties?.Element("Content-Length")?.Value ?? "0", CultureInfo.InvariantCulture);
                var etag = Quote(properties?.Element("Etag")?.Value ?? string.Empty);
                var modified = DateTimeOffset.Parse(properties?.Element("Last-Modified")?.Value ?? "0001-01-01", CultureInfo.InvariantCulture);
                yield return new StoredObject(name, size, etag, modified);
            }

            marker = root.Element("NextMarker")?.Value;
        }
        while (!string.IsNullOrEmpty(marker));
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var message = CreateMessage(RequestMethod.Delete, name, query: null);
        var response = await SendAsync(message, "Delete Blob", name, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return false;
        }

        EnsureSuccess(response, "Delete Blob", name);
        return true;
    }

    /// <summary>Creates the container; returns false when it already existed.</summary>
    public async Task<bool> CreateContainerIfMissingAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, blobName: null, "restype=container");
        var response = await SendAsync(message, "Create Container", null, cancellationToken).ConfigureAwait(false);
        if (response.Status == 409 && ErrorCodeOf(response) == "ContainerAlreadyExists")
        {
            return false;
        }

        EnsureSuccess(response, "Create Container", null);
        return true;
    }

    /// <summary>Deletes the container and everything in it; returns false when it did not exist.</summary>
    public async Task<bool> DeleteContainerAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, blobName: null, "restype=container");
        var response = await SendAsync(message, "Delete Container", null, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return false;
        }

        EnsureSuccess(response, "Delete Container", null);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _containerCreation.Dispose();

    private sealed record TransferSettings(int BlockSize, int DownloadRangeSize, int Parallelism, int ListPageSize, bool CreateContainerIfMissing, string ServiceVersion);
}
