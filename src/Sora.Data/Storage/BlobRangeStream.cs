using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sora.Data.Parquet;

namespace Sora.Data.Storage;

/// <summary>
/// A seekable read-only stream over one blob, made of ranged Gets: a read inside the buffered range is served from
/// memory, a read outside it fetches at least <c>readAhead</c> bytes from that position (a read larger than that
/// goes straight into the caller's buffer). <see cref="ParquetFile"/> announces the footer and each column chunk it
/// is about to decode (<see cref="IRangeHint"/>), and each is fetched in one Get, so only those bytes cross the
/// network. Every Get carries If-Match on the listed ETag: a shard
/// replaced while it is read fails loudly instead of mixing two versions.
/// </summary>
internal sealed class BlobRangeStream : Stream, IRangeHint
{
    /// <summary>The largest announced range held in memory at once (a larger column chunk is read by read-ahead pieces).</summary>
    private const int MaxHintedRange = 256 << 20;

    private readonly BlobClient _blob;
    private readonly ETag _etag;
    private readonly long _length;
    private readonly int _readAhead;
    private readonly Action<long> _fetched;
    private byte[] _buffer = [];
    private long _bufferStart;
    private int _bufferCount;
    private long _position;

    /// <param name="blob">The blob.</param>
    /// <param name="etag">Its ETag when it was listed.</param>
    /// <param name="length">Its length when it was listed.</param>
    /// <param name="readAhead">The least a ranged Get fetches.</param>
    /// <param name="fetched">Told the bytes of every Get (for accounting).</param>
    public BlobRangeStream(BlobClient blob, ETag etag, long length, int readAhead, Action<long> fetched)
    {
        _blob = blob;
        _etag = etag;
        _length = length;
        _readAhead = readAhead;
        _fetched = fetched;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"position {value} is before the start of {_blob.Name}");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, Math.Max(0, _length - _position));
        if (count == 0)
        {
            return 0;
        }

        if (_position < _bufferStart || _position >= _bufferStart + _bufferCount)
        {
            if (count >= _readAhead)
            {
                Fetch(_position, buffer[..count]);
                _position += count;
                return count;
            }

            var fill = (int)Math.Min(_readAhead, _length - _position);
            if (_buffer.Length < fill)
            {
                _buffer = new byte[fill];
            }

            Fetch(_position, _buffer.AsSpan(0, fill));
            (_bufferStart, _bufferCount) = (_position, fill);
        }

        var available = (int)Math.Min(count, _bufferStart + _bufferCount - _position);
        _buffer.AsSpan((int)(_position - _bufferStart), available).CopyTo(buffer);
        _position += available;
        return available;
    }

    /// <summary>Fetches [offset, offset + length) into the buffer in one Get, unless it is there already or too large to hold.</summary>
    public void WillRead(long offset, long length)
    {
        length = Math.Min(length, _length - offset);
        if (offset < 0 || length <= 0 || length > MaxHintedRange || (offset >= _bufferStart && offset + length <= _bufferStart + _bufferCount))
        {
            return;
        }

        if (_buffer.Length < length)
        {
            _buffer = new byte[length];
        }

        Fetch(offset, _buffer.AsSpan(0, (int)length));
        (_bufferStart, _bufferCount) = (offset, (int)length);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => _length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("a shard is read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a shard is read-only");

    private void Fetch(long offset, Span<byte> into)
    {
        try
        {
            var options = new BlobDownloadOptions { Range = new HttpRange(offset, into.Length), Conditions = new BlobRequestConditions { IfMatch = _etag } };
            using var response = _blob.DownloadStreaming(options).Value;
            using var content = response.Content;
            content.ReadExactly(into);
            _fetched(into.Length);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new IOException($"{_blob.Uri.GetLeftPart(UriPartial.Path)} changed while it was read (it was listed with ETag {_etag}): list the dataset again", e);
        }
        catch (RequestFailedException e)
        {
            throw new IOException($"reading bytes [{offset}, {offset + into.Length}) of {_blob.Uri.GetLeftPart(UriPartial.Path)} failed: {e.Status} {e.ErrorCode}", e);
        }
    }
}
