namespace Sora.Cluster.Coordinator;

/// <summary>A node that can take part in a round.</summary>
/// <param name="Node">Its name.</param>
/// <param name="ProcessesPerNode">Its workers.</param>
/// <param name="JoinedOrder">Order of arrival (older nodes are kept first).</param>
public sealed record CandidateNode(string Node, int ProcessesPerNode, long JoinedOrder);

/// <summary>The nodes of a round and every rank's place.</summary>
/// <param name="Nodes">The chosen nodes in rank order.</param>
/// <param name="Ranks">Global rank → (node, local rank).</param>
public sealed record RoundPlan(IReadOnlyList<CandidateNode> Nodes, IReadOnlyList<(string Node, int LocalRank)> Ranks)
{
    public int WorldSize => Ranks.Count;
}

/// <summary>
/// Which nodes form the next round: at least the minimum and at most the maximum number of nodes, oldest first,
/// and never a world size that does not divide every global batch (<see cref="BatchSplit"/>). Node
/// ranks follow arrival order, so a node keeps its ranks across rounds while the set is unchanged.
/// </summary>
public static class RendezvousPolicy
{
    /// <summary>The largest admissible plan, or null with the reason when none can be formed now.</summary>
    public static RoundPlan? Plan(IReadOnlyCollection<CandidateNode> available, int minNodes, int maxNodes, IReadOnlyList<(string Key, int Size)> batches, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(available);
        ArgumentNullException.ThrowIfNull(batches);
        var ordered = available.OrderBy(n => n.JoinedOrder).ToList();
        if (ordered.Count < minNodes)
        {
            reason = $"waiting for nodes: {ordered.Count} of at least {minNodes}";
            return null;
        }

        for (var count = Math.Min(maxNodes, ordered.Count); count >= minNodes; count--)
        {
            var nodes = ordered.Take(count).ToList();
            if (BatchSplit.Refusal(batches, nodes.Sum(n => n.ProcessesPerNode)) is null)
            {
                reason = null;
                var ranks = nodes.SelectMany(n => Enumerable.Range(0, n.ProcessesPerNode).Select(local => (n.Node, local))).ToList();
                return new RoundPlan(nodes, ranks);
            }
        }

        var worlds = Enumerable.Range(minNodes, Math.Min(maxNodes, ordered.Count) - minNodes + 1).Select(c => ordered.Take(c).Sum(n => n.ProcessesPerNode));
        reason = string.Join("; ", worlds.Select(world => BatchSplit.Refusal(batches, world)));
        return null;
    }
}
