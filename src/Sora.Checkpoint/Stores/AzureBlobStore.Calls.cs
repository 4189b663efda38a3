using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;

namespace Sora.Checkpoint.Stores;

/// <summary>Ranged reads, and turning the SDK's failures into store exceptions that name the blob and container.</summary>
public sealed partial class AzureBlobStore
{
    private async Task<(ReadOnlyMemory<byte> Data, long TotalLength, string ETag, DateTimeOffset LastModified)> GetRangeAsync(string name, long offset, int count, string? ifMatch, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(name);
        var options = new BlobDownloadOptions
        {
            Range = new HttpRange(offset, count),
            Conditions = ifMatch is null ? null : new BlobRequestConditions { IfMatch = new ETag(ifMatch) },
        };
        BlobDownloadResult result;
        try
        {
            result = await CallAsync("Get Blob", name, () => blob.DownloadContentAsync(options, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStoreException e) when (e.HttpStatus == 416 && offset == 0)
        {
            // An empty blob has no byte 0 to range over; read it whole.
            options.Range = default;
            result = await CallAsync("Get Blob", name, () => blob.DownloadContentAsync(options, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStoreException e) when (e.HttpStatus == 412 && ifMatch is not null)
        {
            throw new PreconditionFailedException($"blob '{name}' in {Location} changed while it was being read (it no longer has ETag {ifMatch})", name, 412, e.ErrorCode, e);
        }

        var data = result.Content.ToMemory();
        var total = (long)data.Length;
        if (result.Details.ContentRange is { Length: > 0 } contentRange)
        {
            // Content-Range: bytes <first>-<last>/<total>
            var slash = contentRange.LastIndexOf('/');
            if (slash < 0 || !long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out total))
            {
                throw new CheckpointStoreException($"ranged Get of blob '{name}' in {Location} returned Content-Range '{contentRange}', which has no total length", name);
            }
        }

        return (data, total, ETagText(result.Details.ETag), result.Details.LastModified);
    }

    /// <summary>
    /// Runs one SDK call. A response with an error status becomes a <see cref="CheckpointStoreException"/> (or
    /// <see cref="StoredObjectNotFoundException"/> for a missing blob) with the status and the service's error code;
    /// no response at all, after the SDK's retries with backoff, becomes one that says how many attempts were made.
    /// </summary>
    private async Task<T> CallAsync<T>(string operation, string? name, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var what = name is null ? Location : $"blob '{name}' in {Location}";
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            var code = e.ErrorCode;
            var detail = FirstLine(e.Message);
            var message = $"{operation} of {what} failed: HTTP {e.Status}" + (code is null ? string.Empty : $" ({code})") + (detail.Length > 0 ? $": {detail}" : string.Empty);
            if (e.Status == 404 && name is not null)
            {
                throw new StoredObjectNotFoundException(message, name, e.Status, code, e);
            }

            throw new CheckpointStoreException(message, name, e.Status, code, e);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException or IOException)
        {
            // No response (connection refused or reset, timeouts): the SDK's retry policy has already retried with
            // backoff, and its AggregateException carries one exception per attempt.
            var attempts = AttemptsOf(e);
            var cause = attempts is AggregateException { InnerExceptions.Count: > 0 } all ? all.InnerExceptions[^1] : e;
            var count = attempts is AggregateException a ? a.InnerExceptions.Count : 1;
            throw new CheckpointStoreException($"{operation} of {what} failed after {count} attempt(s) with no response: {FirstLine(cause.Message)}", name, null, null, e);
        }
    }

    /// <summary>The retry policy's aggregate of one request's attempts, even when a parallel transfer wrapped it once more.</summary>
    private static Exception AttemptsOf(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: > 0 } aggregate && aggregate.InnerExceptions.Any(i => i is AggregateException))
        {
            e = aggregate.InnerExceptions.First(i => i is AggregateException);
        }

        return e;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    // Headers carry ETags quoted, List Blobs unquoted; one form makes them comparable.
    private static string ETagText(ETag etag)
    {
        var text = etag.ToString();
        return text.Length == 0 || text.StartsWith('"') ? text : $"\"{text}\"";
    }

    /// <summary>Counts what the SDK reads from a stream whose length is not known up front.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Count;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int n)
        {
            Count += n;
            return n;
        }
    }
}
