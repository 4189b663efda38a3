using System.Security.Cryptography;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// A shard object's digest as this build writes it (format version 2): the SHA-256 of the SHA-256s of the object's
/// consecutive <see cref="ChunkBytes"/>-byte chunks (the last one shorter), so every core can hash a chunk of a save
/// or a load at once (one core hashes about 1 GB/s even with SHA-NI). Version 1 manifests recorded the SHA-256 of the
/// whole object; <see cref="ShardObjectReader"/> still checks those, on one core.
/// </summary>
public static class ShardDigest
{
    /// <summary>Bytes per hashed chunk in the checkpoints this build writes: one read of the shard reader (4 MiB).</summary>
    public const int ChunkBytes = ShardObjectReader.ChunkBytes;

    /// <summary>The digest of the concatenation of <paramref name="segments"/>, its chunks of <paramref name="chunk"/> bytes hashed on all cores but one.</summary>
    public static string Compute(IReadOnlyList<byte[]> segments, int chunk = ChunkBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunk);
        var starts = new long[segments.Count + 1];
        for (var i = 0; i < segments.Count; i++)
        {
            starts[i + 1] = starts[i] + segments[i].Length;
        }

        var total = starts[^1];
        var count = (int)((total + chunk - 1) / chunk);
        var digests = new byte[count * SHA256.HashSizeInBytes];
        // One core is left to whoever writes the same bytes meanwhile (a save hashes while the store writes).
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount - 1) };
        Parallel.For(0, count, options, index =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var from = (long)index * chunk;
            var to = Math.Min(from + chunk, total);
            var segment = Array.BinarySearch(starts, from);
            segment = segment >= 0 ? segment : ~segment - 1;
            for (var position = from; position < to; segment++)
            {
                var offset = (int)(position - starts[segment]);
                var length = (int)Math.Min(segments[segment].Length - offset, to - position);
                hash.AppendData(segments[segment], offset, length);
                position += length;
            }

            hash.GetHashAndReset(digests.AsSpan(index * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes));
        });
        return Root(digests);
    }

    /// <summary>The version 2 digest of the chunk digests, in order (32 bytes each).</summary>
    public static string Root(ReadOnlySpan<byte> chunkDigests) => Convert.ToHexStringLower(SHA256.HashData(chunkDigests));
}
