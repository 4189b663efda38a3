using Sora.Data.Loading;
using Sora.Torch;

namespace Sora.Distributed.Parallel;

/// <summary>
/// Data parallelism on tensors, by the loader's split rule (<see cref="GlobalBatch.RankSlice(int, int, int)"/>):
/// every rank draws the same global batch (same seed, same stream) and keeps the contiguous slice
/// [rank·B/N, (rank+1)·B/N) along dim 0, so the training result does not depend on the number of ranks.
/// </summary>
public static class BatchShare
{
    /// <summary>Rank <paramref name="rank"/>'s slice of <paramref name="global"/> (a view).</summary>
    public static Tensor Of(Tensor global, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(global);
        var (start, count) = GlobalBatch.RankSlice(checked((int)global.Size(0)), rank, worldSize);
        return global.Narrow(0, start, count);
    }

    /// <inheritdoc cref="Of(Tensor, int, int)"/>
    public static Tensor? OfOptional(Tensor? global, int rank, int worldSize) => global is null ? null : Of(global, rank, worldSize);
}
