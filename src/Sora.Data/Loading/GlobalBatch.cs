namespace Sora.Data.Loading;

/// <summary>
/// How a global batch is split across ranks: rank r of N takes the contiguous slice
/// [r·B/N, (r+1)·B/N) of every global batch of B samples. The global batch, not the rank, is what the sample
/// order and the cursor count, so the same samples are trained whatever N is.
/// </summary>
public static class GlobalBatch
{
    /// <summary>The first sample and the count of rank <paramref name="rank"/>'s slice of a global batch.</summary>
    public static (int Start, int Count) RankSlice(int globalBatchSize, int rank, int worldSize)
    {
        Validate(globalBatchSize, worldSize);
        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is outside a world of {worldSize} ranks");
        }

        var perRank = globalBatchSize / worldSize;
        return (rank * perRank, perRank);
    }

    /// <summary>Rank <paramref name="rank"/>'s slice of <paramref name="batch"/>.</summary>
    public static IReadOnlyList<T> RankSlice<T>(IReadOnlyList<T> batch, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var (start, count) = RankSlice(batch.Count, rank, worldSize);
        var slice = new T[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = batch[start + i];
        }

        return slice;
    }

    /// <summary>Throws unless a global batch of <paramref name="globalBatchSize"/> splits evenly over <paramref name="worldSize"/> ranks.</summary>
    public static void Validate(int globalBatchSize, int worldSize)
    {
        if (worldSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(worldSize), $"world size must be >= 1 (got {worldSize})");
        }

        if (globalBatchSize < 1 || globalBatchSize % worldSize != 0)
        {
            throw new ArgumentException(
                $"global batch size {globalBatchSize} must be a positive multiple of the world size {worldSize} so every rank gets the same number of samples",
                nameof(globalBatchSize));
        }
    }
}
