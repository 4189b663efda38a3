using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Text;
using Azure.Core;

namespace Sora.Checkpoint.Stores;

/// <summary>Uploads: one Put Blob for an object that fits in a block, parallel Put Block requests and a Put Block List otherwise.</summary>
public sealed partial class AzureBlobStore
{
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
