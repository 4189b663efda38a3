namespace Sora.Checkpoint.Sharded;

/// <summary>A read-only stream over byte arrays one after another, so a shard goes to the store without first being copied into one buffer (and, through <see cref="CopyToAsync(Stream, int, CancellationToken)"/>, without a copy at all).</summary>
internal sealed class SegmentStream(IReadOnlyList<byte[]> segments) : Stream
{
    private int _segment;
    private int _offset;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => segments.Sum(s => (long)s.Length);

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        while (written < buffer.Length && _segment < segments.Count)
        {
            var current = segments[_segment];
            var n = Math.Min(buffer.Length - written, current.Length - _offset);
            current.AsSpan(_offset, n).CopyTo(buffer[written..]);
            written += n;
            _offset += n;
            if (_offset == current.Length)
            {
                _segment++;
                _offset = 0;
            }
        }

        _position += written;
        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Writes the remaining segments straight to <paramref name="destination"/>, without staging them in a copy buffer.</summary>
    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        while (_segment < segments.Count)
        {
            var rest = segments[_segment].AsMemory(_offset);
            await destination.WriteAsync(rest, cancellationToken).ConfigureAwait(false);
            _position += rest.Length;
            _segment++;
            _offset = 0;
        }
    }

    public override void CopyTo(Stream destination, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(destination);
        while (_segment < segments.Count)
        {
            var rest = segments[_segment].AsSpan(_offset);
            destination.Write(rest);
            _position += rest.Length;
            _segment++;
            _offset = 0;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
