using System.Security.Cryptography;
using Sora.Checkpoint.Sharded;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

/// <summary>The one-pass shard read (tensors disposed one by one: a dispose scope cannot span awaits): ranges straight into tensors across chunk boundaries, gaps, short reads, aliasing ranges, failures.</summary>
public sealed class ShardObjectReaderTests
{
    private const int Chunk = ShardObjectReader.ChunkBytes;

    [Theory]
    [InlineData(int.MaxValue, null)]
    [InlineData(1000, null)]
    [InlineData(int.MaxValue, Chunk)]
    [InlineData(1000, Chunk)]
    [InlineData(int.MaxValue, (1 << 20) + 3)]   // chunks that do not line up with the reads
    [InlineData(int.MaxValue, 16 * Chunk)]      // one chunk of many scratch-buffer reads: buffers must come back piece by piece
    public async Task Ranges_land_in_their_tensors_and_every_byte_is_hashed_once_in_order(int maxRead, int? digestChunk)
    {
        var data = RandomBytes((3 * Chunk) + 12345, seed: 1);
        using var big = Tensor.Empty([(2 * Chunk) + 4000], ScalarType.UInt8);          // spans chunk boundaries
        using var small = Tensor.Empty([100], ScalarType.UInt8);
        using var alias = Tensor.Empty([50], ScalarType.UInt8);                         // the same bytes as part of small
        using var part = Tensor.Empty([Chunk + 10], ScalarType.UInt8);                  // only its last 15000 bytes come from this object
        using var empty = Tensor.Empty([0], ScalarType.UInt8);
        long partStart = data.Length - 20000;
        var copies = new List<ShardCopy>
        {
            new(16, big.NumElements, big, 0),
            new(16 + big.NumElements + 100000, 100, small, 0),
            new(16 + big.NumElements + 100030, 50, alias, 0),
            new(partStart, 15000, part, Chunk + 10 - 15000),
            new(5, 0, empty, 0),
        };

        var (sha, size) = await ShardObjectReader.ReadAsync(new ShortReads(data, maxRead), copies, digestChunk, CancellationToken.None);

        sha.Should().Be(ExpectedDigest(data, digestChunk));
        size.Should().Be(data.Length);
        foreach (var copy in copies)
        {
            var bytes = new byte[copy.Length];
            copy.Destination.AsWritableBytes(copy.DestinationOffset, (int)copy.Length).CopyTo(bytes);
            bytes.Should().Equal(data.AsSpan((int)copy.Source, (int)copy.Length).ToArray(), $"bytes [{copy.Source}, {copy.End})");
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(Chunk)]
    public async Task A_stream_that_ends_early_reports_the_bytes_it_had_and_their_hash(int? digestChunk)
    {
        var data = RandomBytes(Chunk + 7, seed: 2);
        using var tensor = Tensor.Empty([2 * Chunk], ScalarType.UInt8);

        var (sha, size) = await ShardObjectReader.ReadAsync(new MemoryStream(data), [new ShardCopy(0, 2 * Chunk, tensor, 0)], digestChunk, CancellationToken.None);

        size.Should().Be(data.Length);
        sha.Should().Be(ExpectedDigest(data, digestChunk));
    }

    [Theory]
    [InlineData(Chunk)]
    [InlineData(1000)]
    public void The_writer_digest_of_segments_equals_the_digest_of_their_concatenation(int digestChunk)
    {
        var data = RandomBytes((2 * Chunk) + 777, seed: 4);
        // Segments cut anywhere, an empty one among them, as a header and tensor ranges are.
        var cuts = new[] { 0, 24, 24, 5000, Chunk - 1, Chunk + 9, data.Length };
        var segments = cuts.Zip(cuts.Skip(1)).Select(c => data[c.First..c.Second]).ToArray();

        ShardDigest.Compute(segments, digestChunk).Should().Be(ExpectedDigest(data, digestChunk));
        ShardDigest.Compute([], Chunk).Should().Be(Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty)), "no chunks: the hash of no digests");
    }

    [Fact]
    public async Task A_failing_stream_fails_the_read_with_its_own_error()
    {
        var data = RandomBytes(3 * Chunk, seed: 3);
        using var tensor = Tensor.Empty([data.Length], ScalarType.UInt8);

        var read = () => ShardObjectReader.ReadAsync(new FailingAfter(data, 2 * Chunk), [new ShardCopy(0, data.Length, tensor, 0)], ShardObjectReader.ChunkBytes, CancellationToken.None);

        await read.Should().ThrowAsync<IOException>().WithMessage("connection reset after *");
    }

    /// <summary>Format version 1: the SHA-256 of the bytes; version 2: the SHA-256 of the SHA-256s of each chunk.</summary>
    private static string ExpectedDigest(byte[] data, int? chunk)
    {
        if (chunk is not { } size)
        {
            return Convert.ToHexStringLower(SHA256.HashData(data));
        }

        var digests = new List<byte>();
        for (var start = 0; start < data.Length; start += size)
        {
            digests.AddRange(SHA256.HashData(data.AsSpan(start, Math.Min(size, data.Length - start))));
        }

        return Convert.ToHexStringLower(SHA256.HashData(digests.ToArray()));
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Returns at most <c>maxRead</c> bytes per read, as network streams do.</summary>
    private sealed class ShortReads(byte[] data, int maxRead) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
    }

    private sealed class FailingAfter(byte[] data, int limit) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position >= limit ? throw new IOException($"connection reset after {Position} bytes") : base.ReadAsync(buffer, cancellationToken);
    }
}
