using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>Bytes [<see cref="Source"/>, <see cref="End"/>) of a shard object belong in <see cref="Destination"/> from byte <see cref="DestinationOffset"/>.</summary>
internal sealed record ShardCopy(long Source, long Length, Tensor Destination, long DestinationOffset)
{
    public long End => Source + Length;
}

/// <summary>
/// Reads one shard object once, front to back. The byte ranges a load asked for are read from the store's stream
/// straight into their tensors' memory; everything else (the header, ranges nobody asked for) goes through a few
/// scratch buffers. Hashing (about 1 GB/s per core even with SHA-NI) overlaps the read instead of following it:
/// for a version 2 digest (<see cref="ShardDigest"/>) every core hashes a chunk at once, for a version 1 digest one
/// task hashes every byte in order while the next piece is read.
/// </summary>
internal static class ShardObjectReader
{
    /// <summary>Bytes per read; large enough that a file read goes straight past the stream's own buffer.</summary>
    public const int ChunkBytes = 4 << 20;

    private const int ChunksAhead = 4;

    /// <summary>
    /// Reads <paramref name="stream"/> to its end, filling <paramref name="copies"/>; returns the digest (lower-case hex) and
    /// the number of bytes read. <paramref name="digestChunkBytes"/> is the manifest's <c>chunk_bytes</c>, or null for a
    /// whole-object SHA-256 (format version 1).
    /// </summary>
    public static async Task<(string Sha256, long Size)> ReadAsync(Stream stream, IReadOnlyList<ShardCopy> copies, int? digestChunkBytes, CancellationToken cancellationToken)
    {
        var ordered = copies.Where(c => c.Length > 0).OrderBy(c => c.Source).ToArray();
        var chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(ChunksAhead) { SingleReader = true, SingleWriter = true });
        var scratch = Channel.CreateUnbounded<byte[]>();
        var rented = Enumerable.Range(0, ChunksAhead + 1).Select(_ => ArrayPool<byte>.Shared.Rent(ChunkBytes)).ToArray();
        foreach (var buffer in rented)
        {
            scratch.Writer.TryWrite(buffer);
        }

        // A hasher that fails stops the reader, which could otherwise wait forever for room in the channel.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var hashing = Task.Run(async () =>
        {
            try
            {
                return digestChunkBytes is { } chunk
                    ? await HashChunksAsync(chunks.Reader, scratch.Writer, chunk, stop.Token).ConfigureAwait(false)
                    : Convert.ToHexStringLower(await HashPiecesAsync(chunks.Reader, scratch.Writer, stop.Token).ConfigureAwait(false));
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None);
        cancellationToken = stop.Token;
        long position = 0;
        try
        {
            var first = 0;
            while (true)
            {
                while (first < ordered.Length && ordered[first].End <= position)
                {
                    first++;
                }

                // A read never crosses a digest chunk's end, so each piece belongs to one chunk.
                var most = digestChunkBytes is { } chunk ? (int)Math.Min(ChunkBytes, chunk - (position % chunk)) : ChunkBytes;
                Memory<byte> target;
                byte[]? buffer = null;
                ShardCopy? direct = null;
                if (first < ordered.Length && ordered[first].Source <= position)
                {
                    direct = ordered[first];
                    var count = (int)Math.Min(most, direct.End - position);
                    target = new TensorBytes(direct.Destination, direct.DestinationOffset + (position - direct.Source), count).Memory;
                }
                else
                {
                    buffer = await scratch.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var count = first < ordered.Length ? (int)Math.Min(most, ordered[first].Source - position) : most;
                    target = buffer.AsMemory(0, count);
                }

                var read = await ReadFullyAsync(stream, target, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (buffer is not null)
                    {
                        scratch.Writer.TryWrite(buffer);
                    }

                    break;
                }

                var filled = target[..read];
                CopyOverlaps(ordered, first, direct, position, filled.Span);
                await chunks.Writer.WriteAsync(new Chunk(filled, buffer), cancellationToken).ConfigureAwait(false);
                position += read;
                if (read < target.Length)
                {
                    break;
                }
            }

            chunks.Writer.Complete();
            return (await hashing.ConfigureAwait(false), position);
        }
        catch (Exception)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            chunks.Writer.TryComplete();
            try
            {
                await hashing.ConfigureAwait(false);
            }
            catch (Exception hashError) when (hashError is not OperationCanceledException)
            {
                // The hasher failed first and stopped the reader: its error is the cause.
                throw new IOException($"hashing the shard failed: {hashError.Message}", hashError);
            }
            catch (Exception)
            {
                // The hasher ended because the reader failed or was cancelled: the reader's error is the one to report.
            }

            throw;
        }
        finally
        {
            foreach (var buffer in rented)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The SHA-256 of every piece in order, each scratch buffer handed back as soon as its piece is hashed.</summary>
    private static async Task<byte[]> HashPiecesAsync(ChannelReader<Chunk> pieces, ChannelWriter<byte[]> scratch, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await foreach (var piece in pieces.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            hash.AppendData(piece.Bytes.Span);
            if (piece.Scratch is { } buffer)
            {
                scratch.TryWrite(buffer);
            }
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// The version 2 digest: each chunk gets its own task, which hashes the chunk's pieces in order as they are
    /// read, while the tasks of other chunks do the same on the other cores; at most one chunk per core is open at
    /// a time. A scratch buffer goes back as soon as its piece is hashed, whatever the chunk size.
    /// </summary>
    private static async Task<string> HashChunksAsync(ChannelReader<Chunk> pieces, ChannelWriter<byte[]> scratch, int chunkBytes, CancellationToken cancellationToken)
    {
        var slots = new SemaphoreSlim(Environment.ProcessorCount);
        var digests = new List<Task<byte[]>>();
        Channel<Chunk>? open = null;
        long position = 0;
        try
        {
            await foreach (var piece in pieces.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // Reads never cross a chunk's end, so a piece starting on a boundary starts a new chunk.
                if (position % chunkBytes == 0)
                {
                    open?.Writer.Complete();
                    await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    open = Channel.CreateUnbounded<Chunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                    var chunk = open.Reader;
                    digests.Add(Task.Run(() => HashChunkAsync(chunk, scratch, slots), CancellationToken.None));
                }

                position += piece.Bytes.Length;
                open!.Writer.TryWrite(piece);
            }

            open?.Writer.Complete();
            var all = await Task.WhenAll(digests).ConfigureAwait(false);
            return ShardDigest.Root(all.SelectMany(d => d).ToArray());
        }
        finally
        {
            // Nothing may still read the tensors' memory or the scratch buffers once this returns.
            open?.Writer.TryComplete();
            await ((Task)Task.WhenAll(digests)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            slots.Dispose();
        }
    }

    private static async Task<byte[]> HashChunkAsync(ChannelReader<Chunk> pieces, ChannelWriter<byte[]> scratch, SemaphoreSlim slots)
    {
        try
        {
            // Not cancellable: the dispatcher always completes the channel, and the pieces must be hashed or handed back.
            return await HashPiecesAsync(pieces, scratch, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Reads until <paramref name="target"/> is full or the stream ends.</summary>
    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> target, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < target.Length)
        {
            var n = await stream.ReadAsync(target[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>
    /// Copies the bytes just read into every other range they also belong to. Our writer never lays out two ranges
    /// over the same bytes, but a manifest may name the same bytes twice, and such a load still gets them.
    /// </summary>
    private static void CopyOverlaps(ShardCopy[] ordered, int first, ShardCopy? direct, long position, ReadOnlySpan<byte> bytes)
    {
        var end = position + bytes.Length;
        for (var i = first; i < ordered.Length && ordered[i].Source < end; i++)
        {
            var copy = ordered[i];
            if (ReferenceEquals(copy, direct))
            {
                continue;
            }

            var from = Math.Max(copy.Source, position);
            var to = Math.Min(copy.End, end);
            if (from < to)
            {
                bytes.Slice((int)(from - position), (int)(to - from)).CopyTo(copy.Destination.AsWritableBytes(copy.DestinationOffset + (from - copy.Source), (int)(to - from)));
            }
        }
    }

    private readonly record struct Chunk(ReadOnlyMemory<byte> Bytes, byte[]? Scratch);
}
