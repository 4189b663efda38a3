namespace Sora.Cluster.Coordinator;

/// <summary>
/// The one rule on a world size: every rank trains an equal share of every global batch, so the world size must divide
/// each batch (<c>vae.train.batch_size</c>, <c>train.batch_size</c>). The rendezvous forms no other round, and the
/// launchers refuse a job that could have none before anything starts.
/// </summary>
public static class BatchSplit
{
    /// <summary>Null when <paramref name="worldSize"/> divides every batch; else the error, naming the key, the batch and the world size.</summary>
    public static string? Refusal(IEnumerable<(string Key, int Size)> batches, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        return batches.Where(b => b.Size % worldSize != 0)
            .Select(b => $"{b.Key} ({b.Size}) must be a multiple of the world size ({worldSize}): each rank trains on an equal share of every global batch")
            .FirstOrDefault();
    }

    /// <summary>
    /// Throws, before anything starts, when no round of <paramref name="minNodes"/> to <paramref name="maxNodes"/> nodes of
    /// <paramref name="processesPerNode"/> workers each could be formed (the nodes of one launch are alike).
    /// </summary>
    public static void CheckLaunch(IReadOnlyList<(string Key, int Size)> batches, int minNodes, int maxNodes, int processesPerNode)
    {
        if (processesPerNode < 1)
        {
            throw new ArgumentException($"--nproc-per-node must be >= 1 (got {processesPerNode})");
        }

        var refusals = Enumerable.Range(minNodes, maxNodes - minNodes + 1).Select(nodes => Refusal(batches, nodes * processesPerNode)).ToList();
        if (refusals.All(r => r is not null))
        {
            throw new ArgumentException(string.Join("; ", refusals));
        }
    }
}
