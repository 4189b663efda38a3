namespace Sora.Checkpoint.Stores;

/// <summary>
/// A read-only stream over a large blob that keeps up to <c>parallelism</c> ranged Gets in flight ahead of the
/// reader and hands their bytes out in order. Memory is bounded by parallelism × range size. Every range is
/// fetched with If-Match on the ETag of the first response, so a blob replaced mid-read fails loudly instead of
/// yielding a mix of two versions.
/// </summary>
internal sealed class BlobRangeReadStream : Stream
{
    public delegate Task<ReadOnlyMemory<byte>> RangeFetcher(long offset, int count, CancellationToken cancellationToken);

    private readonly RangeFetcher _fetch;
    private readonly long _length;
    private readonly int _rangeSize;
    private readonly int _parallelism;
    private readonly Queue<Task<ReadOnlyMemory<byte>>> _inFlight = new();
    private readonly CancellationTokenSource _cancel = new();
    private ReadOnlyMemory<byte> _current;
    private long _nextRequest;
    private long _position;

    /// <summary>Starts fetching the ranges after <paramref name="first"/>, the bytes of the first range (already fetched).</summary>
    public BlobRangeReadStream(ReadOnlyMemory<byte> first, long length, int rangeSize, int parallelism, RangeFetcher fetch)
    {
        _current = first;
        _length = length;
        _rangeSize = rangeSize;
        _parallelism = parallelism;
        _fetch = fetch;
        _nextRequest = first.Length;
        Refill();
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    /// <summary>The blob's length (known from the first response, even though the stream cannot seek).</summary>
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("a blob range stream reads forward only");
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_cancel.IsCancellationRequested, this);
        while (_current.IsEmpty)
        {
            if (!_inFlight.TryDequeue(out var next))
            {
                return 0;
            }

            _current = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            Refill();
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a blob range stream reads forward only");

    public override void SetLength(long value) => throw new NotSupportedException("a blob range stream is read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a blob range stream is read-only");

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_cancel.IsCancellationRequested)
        {
            _cancel.Cancel();
            // Ranges still in flight end cancelled; observe them so no unobserved-task error surfaces later.
            foreach (var task in _inFlight)
            {
                _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            _inFlight.Clear();
            _cancel.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Refill()
    {
        while (_inFlight.Count < _parallelism && _nextRequest < _length)
        {
            var count = (int)Math.Min(_rangeSize, _length - _nextRequest);
            _inFlight.Enqueue(_fetch(_nextRequest, count, _cancel.Token));
            _nextRequest += count;
        }
    }
}
