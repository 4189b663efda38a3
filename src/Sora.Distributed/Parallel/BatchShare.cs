using Sora.Torch;

namespace Sora.Distributed.Parallel;

/// <summary>
/// Data parallelism's split rule: every rank draws the same global batch (same seed, same stream) and
/// keeps the contiguous slice [rank·B/N, (rank+1)·B/N) along dim 0. The global batch, and so the
/// training result, does not depend on the number of ranks.
/// </summary>
public static class BatchShare
{
    /// <summary>Rank <paramref name="rank"/>'s slice of <paramref name="global"/> (a view).</summary>
    public static Tensor Of(Tensor global, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(global);
        var size = global.Size(0);
        var share = SizeOf(size, worldSize);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        return global.Narrow(0, rank * share, share);
    }

    /// <inheritdoc cref="Of(Tensor, int, int)"/>
    public static Tensor? OfOptional(Tensor? global, int rank, int worldSize) => global is null ? null : Of(global, rank, worldSize);

    /// <summary>Samples per rank; a global batch that does not split evenly is an error naming both numbers.</summary>
    public static long SizeOf(long globalBatch, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (globalBatch % worldSize != 0)
        {
            throw new ArgumentException(
                $"a global batch of {globalBatch} samples does not split evenly across {worldSize} ranks: make the batch size a multiple of the world size");
        }

        return globalBatch / worldSize;
    }
}
