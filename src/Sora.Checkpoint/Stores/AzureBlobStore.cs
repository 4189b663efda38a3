using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Xml.Linq;
using Azure;
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
public sealed class AzureBlobStore : ICheckpointStore, IDisposable
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

    private async Task<StoredObject> PutBlobAsync(string name, ReadOnlyMemory<byte> data, PutCondition condition, CancellationToken cancellationToken)
    {
        var response = await SendWriteAsync(
            () =>
            {
                var message = CreateMessage(RequestMethod.Put, name, query: null);
                message.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
                message.Request.Headers.SetValue("Content-Type", "application/octet-stream");
                AddCondition(message.Request, condition);
                message.Request.Content = RequestContent.Create(data);
                return message;
            },
            "Put Blob",
            name,
            condition,
            cancellationToken).ConfigureAwait(false);
        return new StoredObject(name, data.Length, response.ETag, response.LastModified);
    }

    private async Task<StoredObject> PutBlocksAsync(string name, Stream content, Block first, Block second, PutCondition condition, CancellationToken cancellationToken)
    {
        // Block ids are unique per upload, so concurrent uploads of one name never mix their uncommitted blocks.
        var upload = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        var uploads = new List<Task>();
        var pending = new Queue<Block>([first, second]);
        long total = 0;
        using var gate = new SemaphoreSlim(_settings.Parallelism);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task UploadAsync(string id, Block block)
        {
            try
            {
                await SendWriteAsync(
                    () =>
                    {
                        var message = CreateMessage(RequestMethod.Put, name, "comp=block&blockid=" + Uri.EscapeDataString(id));
                        message.Request.Content = RequestContent.Create(block.Memory);
                        return message;
                    },
                    "Put Block",
                    name,
                    PutCondition.None,
                    failed.Token).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                block.Dispose();
                gate.Release();
            }
        }

        ExceptionDispatchInfo? readFailure = null;
        try
        {
            while (true)
            {
                var block = pending.Count > 0 ? pending.Dequeue() : await ReadBlockAsync(content, failed.Token).ConfigureAwait(false);
                if (block.Count == 0)
                {
                    block.Dispose();
                    break;
                }

                try
                {
                    await gate.WaitAsync(failed.Token).ConfigureAwait(false);
                }
                catch
                {
                    block.Dispose();
                    throw;
                }

                if (ids.Count == MaxBlocks)
                {
                    block.Dispose();
                    gate.Release();
                    throw new CheckpointStoreException($"blob '{name}' in {Location} would need more than {MaxBlocks} blocks of {_settings.BlockSize} bytes (the service's limit); raise {nameof(AzureBlobStoreOptions.BlockSize)}", name);
                }

                var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{upload}-{ids.Count:D8}"));
                ids.Add(id);
                total += block.Count;
                uploads.Add(UploadAsync(id, block));
                if (block.Count < _settings.BlockSize)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            readFailure = ExceptionDispatchInfo.Capture(e);
            await failed.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            while (pending.TryDequeue(out var unused))
            {
                unused.Dispose();
            }
        }

        var all = Task.WhenAll(uploads);
        try
        {
            await all.ConfigureAwait(false);
        }
        catch (Exception) when (all.Exception is { } uploadFailure && (readFailure is null || readFailure.SourceException is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A block failed: that is the cause (the read loop only saw the cancellation the failure triggered).
            ExceptionDispatchInfo.Throw(uploadFailure.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? uploadFailure.InnerExceptions[0]);
        }
        catch (Exception) when (readFailure is not null)
        {
            // The source stream failed or the caller cancelled; the uploads were only cancelled because of it.
        }

        readFailure?.Throw();
        var blockList = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in ids)
        {
            blockList.Append("<Latest>").Append(id).Append("</Latest>");
        }

        var body = Encoding.UTF8.GetBytes(blockList.Append("</BlockList>").ToString());
        var response = await SendWriteAsync(
            () =>
            {
                var message = CreateMessage(RequestMethod.Put, name, "comp=blocklist");
                message.Request.Headers.SetValue("Content-Type", "application/xml");
                AddCondition(message.Request, condition);
                message.Request.Content = RequestContent.Create(body);
                return message;
            },
            "Put Block List",
            name,
            condition,
            cancellationToken).ConfigureAwait(false);
        return new StoredObject(name, total, response.ETag, response.LastModified);
    }

    /// <summary>Sends a write; when the container is missing (and may be created) creates it and sends once more.</summary>
    private async Task<(string ETag, DateTimeOffset LastModified)> SendWriteAsync(Func<HttpMessage> create, string operation, string name, PutCondition condition, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var message = create();
            var response = await SendAsync(message, operation, name, cancellationToken).ConfigureAwait(false);
            if (response.Status == 404 && ErrorCodeOf(response) == "ContainerNotFound" && _settings.CreateContainerIfMissing && attempt == 0)
            {
                await _containerCreation.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await CreateContainerIfMissingAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _containerCreation.Release();
                }

                continue;
            }

            if (response.Status == 412 || (response.Status == 409 && ErrorCodeOf(response) == "BlobAlreadyExists"))
            {
                throw new PreconditionFailedException(
                    $"{operation} of blob '{name}' in {Location} failed its condition ({condition}): HTTP {response.Status} {ErrorCodeOf(response)}",
                    name,
                    response.Status,
                    ErrorCodeOf(response));
            }

            EnsureSuccess(response, operation, name);
            return (ETagOf(response), LastModifiedOf(response));
        }
    }

    private async Task<(ReadOnlyMemory<byte> Data, long TotalLength, string ETag, DateTimeOffset LastModified)> GetRangeAsync(string name, long offset, int count, string? ifMatch, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Get, name, query: null);
        message.Request.Headers.SetValue("x-ms-range", $"bytes={offset}-{offset + count - 1}");
        if (ifMatch is not null)
        {
            message.Request.Headers.SetValue("If-Match", ifMatch);
        }

        // Buffered inside the pipeline, so a connection lost mid-body is retried like any other failure.
        message.BufferResponse = true;
        var response = await SendAsync(message, "Get Blob", name, cancellationToken).ConfigureAwait(false);
        if (response.Status == 416 && offset == 0)
        {
            // An empty blob has no byte 0 to range over; read it whole.
            using var whole = CreateMessage(RequestMethod.Get, name, query: null);
            whole.BufferResponse = true;
            var wholeResponse = await SendAsync(whole, "Get Blob", name, cancellationToken).ConfigureAwait(false);
            EnsureReadSuccess(wholeResponse, name, ifMatch);
            var wholeData = wholeResponse.Content.ToMemory();
            return (wholeData, wholeData.Length, ETagOf(wholeResponse), LastModifiedOf(wholeResponse));
        }

        EnsureReadSuccess(response, name, ifMatch);
        var data = response.Content.ToMemory();
        var total = (long)data.Length;
        if (response.Status == 206)
        {
            // Content-Range: bytes <first>-<last>/<total>
            var contentRange = response.Headers.TryGetValue("Content-Range", out var r) ? r : string.Empty;
            var slash = contentRange.LastIndexOf('/');
            if (slash < 0 || !long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out total))
            {
                throw new CheckpointStoreException($"ranged Get of blob '{name}' in {Location} returned Content-Range '{contentRange}', which has no total length", name, response.Status);
            }
        }

        return (data, total, ETagOf(response), LastModifiedOf(response));
    }

    private void EnsureReadSuccess(Response response, string name, string? ifMatch)
    {
        if (response.Status == 412 && ifMatch is not null)
        {
            throw new PreconditionFailedException($"blob '{name}' in {Location} changed while it was being read (it no longer has ETag {ifMatch})", name, 412, ErrorCodeOf(response));
        }

        EnsureSuccess(response, "Get Blob", name);
    }

    private HttpMessage CreateMessage(RequestMethod method, string? blobName, string? query)
    {
        var url = new StringBuilder(_containerUrl);
        if (blobName is not null)
        {
            foreach (var segment in blobName.Split('/'))
            {
                url.Append('/').Append(Uri.EscapeDataString(segment));
            }
        }

        var parameters = string.Join('&', new[] { query, _sasQuery }.Where(q => !string.IsNullOrEmpty(q)));
        if (parameters.Length > 0)
        {
            url.Append('?').Append(parameters);
        }

        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(url.ToString()));
        message.Request.Headers.SetValue("x-ms-version", _settings.ServiceVersion);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, string operation, string? name, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException or IOException)
        {
            // No response at all (connection refused or reset, timeouts): Azure.Core's retry policy has already
            // retried with backoff; AggregateException carries one exception per attempt.
            var attempts = e is AggregateException aggregate ? aggregate.InnerExceptions.Count : 1;
            var cause = e is AggregateException a ? a.InnerExceptions[^1] : e;
            var what = name is null ? Location : $"blob '{name}' in {Location}";
            throw new CheckpointStoreException($"{operation} of {what} failed after {attempts} attempt(s) with no response: {cause.Message}", name, null, null, e);
        }
    }

    private void EnsureSuccess(Response response, string operation, string? name)
    {
        if (response.Status is >= 200 and < 300)
        {
            return;
        }

        var code = ErrorCodeOf(response);
        var detail = string.Empty;
        if (response.ContentStream is { CanSeek: true } body && body.Length > 0)
        {
            try
            {
                detail = XDocument.Load(body).Root?.Element("Message")?.Value.Split('\n')[0].Trim() ?? string.Empty;
            }
            catch (System.Xml.XmlException)
            {
                // Not the service's XML error body (a proxy's page, say): the status and code still say what failed.
            }
        }

        var what = name is null ? Location : $"blob '{name}' in {Location}";
        var message = $"{operation} of {what} failed: HTTP {response.Status} {response.ReasonPhrase}" + (code is null ? string.Empty : $" ({code})") + (detail.Length > 0 && detail != response.ReasonPhrase ? $": {detail}" : string.Empty);
        if (response.Status == 404 && name is not null)
        {
            throw new StoredObjectNotFoundException(message, name, response.Status, code);
        }

        throw new CheckpointStoreException(message, name, response.Status, code);
    }

    private static string? ErrorCodeOf(Response response) => response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : null;

    private static string ETagOf(Response response) => response.Headers.TryGetValue("ETag", out var etag) ? Quote(etag) : string.Empty;

    // Headers carry ETags quoted, List Blobs unquoted; one form makes them comparable.
    private static string Quote(string etag) => etag.Length == 0 || etag.StartsWith('"') ? etag : $"\"{etag}\"";

    private static DateTimeOffset LastModifiedOf(Response response) =>
        response.Headers.TryGetValue("Last-Modified", out var modified) ? DateTimeOffset.Parse(modified, CultureInfo.InvariantCulture) : DateTimeOffset.UtcNow;

    private static void AddCondition(Request request, PutCondition condition)
    {
        if (condition.MustNotExist)
        {
            request.Headers.SetValue("If-None-Match", "*");
        }

        if (condition.ExpectedETag is { } etag)
        {
            request.Headers.SetValue("If-Match", etag);
        }
    }

    private async Task<Block> ReadBlockAsync(Stream content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_settings.BlockSize);
        try
        {
            var count = await content.ReadAtLeastAsync(buffer.AsMemory(0, _settings.BlockSize), _settings.BlockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return new Block(buffer, count);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private sealed record TransferSettings(int BlockSize, int DownloadRangeSize, int Parallelism, int ListPageSize, bool CreateContainerIfMissing, string ServiceVersion);

    /// <summary>A pooled buffer holding up to one block of the upload.</summary>
    private sealed class Block(byte[]? buffer, int count) : IDisposable
    {
        public static Block Empty => new(null, 0);

        public int Count { get; } = count;

        public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, Count);

        public void Dispose()
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
    }
}
