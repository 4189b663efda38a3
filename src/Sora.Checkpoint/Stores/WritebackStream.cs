namespace Sora.Checkpoint.Stores;

/// <summary>
/// Passes writes through to a file and, after every <c>chunkBytes</c>, starts writing what came so far back to disk
/// (<see cref="PosixFileCalls.StartWriteback"/>) while the rest is still being written, so that the fsync at the end
/// waits for the last chunk rather than the whole file: the disk works while the writer copies. (RocksDB's
/// bytes_per_sync does the same.) Durability is unchanged: the caller still fsyncs before the rename.
/// </summary>
internal sealed class WritebackStream(FileStream file, long chunkBytes) : Stream
{
    private long _written;
    private long _started;
    private bool _enabled = chunkBytes > 0;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _written;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        file.Write(buffer);
        _written += buffer.Length;
        if (Due)
        {
            file.Flush();
            StartWriteback();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _written += buffer.Length;
        if (Due)
        {
            // Hands the file's own buffer to the OS, so the range asked for is really in the page cache.
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            StartWriteback();
        }
    }

    public override void Flush() => file.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private bool Due => _enabled && _written - _started >= chunkBytes;

    private void StartWriteback()
    {
        // A file system that refuses the hint only turns it off; the fsync at the end decides durability.
        _enabled = PosixFileCalls.StartWriteback(file.SafeFileHandle, _started, _written - _started);
        _started = _written;
    }
}
