namespace Sora.Checkpoint.Stores;

/// <summary>
/// The content of one version of an object, with that version's properties. Read the ETag here rather than
/// from a separate properties call, which could describe a newer version than the bytes read: a pointer
/// update with <see cref="PutCondition.IfMatch"/> must be based on the version whose content was read.
/// </summary>
public sealed class StoredObjectStream : Stream
{
    private readonly Stream _inner;

    internal StoredObjectStream(Stream inner, StoredObject properties)
    {
        _inner = inner;
        Properties = properties;
    }

    /// <summary>Name, size and ETag of the version this stream reads.</summary>
    public StoredObject Properties { get; }

    public override bool CanRead => true;

    public override bool CanSeek => _inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => Properties.Size;

    public override long Position
    {
        get => _inner.Position;
        set => _inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) =>
        _inner.CopyToAsync(destination, bufferSize, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException($"the stream of object '{Properties.Name}' is read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException($"the stream of object '{Properties.Name}' is read-only");

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
