namespace Sora.Data.Packing;

/// <summary>
/// Patch n' Pack: places samples of different sizes (images and videos, any resolution) into sequences of at most
/// <see cref="TokenBudget"/> tokens by first-fit decreasing: samples in order of decreasing token count (ties by
/// input order) each go into the first sequence with room, or a new one. Deterministic for a given input list.
/// </summary>
public sealed class SequencePacker
{
    public SequencePacker(int tokenBudget)
    {
        if (tokenBudget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(tokenBudget), $"data.batching.token_budget must be >= 1 (got {tokenBudget})");
        }

        TokenBudget = tokenBudget;
    }

    public int TokenBudget { get; }

    /// <summary>Packs samples with these token grids; segment ids are the indices into <paramref name="grids"/>.</summary>
    public PackedBatch Pack(IReadOnlyList<TokenGrid> grids)
    {
        ArgumentNullException.ThrowIfNull(grids);
        if (grids.Count == 0)
        {
            throw new ArgumentException("there are no samples to pack", nameof(grids));
        }

        for (var i = 0; i < grids.Count; i++)
        {
            if (grids[i].Tokens > TokenBudget || grids[i].Tokens < 1)
            {
                throw new ArgumentException(
                    $"sample {i} has {grids[i]} = {grids[i].Tokens} tokens, which does not fit a sequence of data.batching.token_budget = {TokenBudget}", nameof(grids));
            }
        }

        var order = Enumerable.Range(0, grids.Count).OrderByDescending(i => grids[i].Tokens).ThenBy(i => i);
        var contents = new List<List<int>>();
        var free = new List<long>();
        foreach (var item in order)
        {
            var target = free.FindIndex(room => room >= grids[item].Tokens);
            if (target < 0)
            {
                target = contents.Count;
                contents.Add([]);
                free.Add(TokenBudget);
            }

            contents[target].Add(item);
            free[target] -= grids[item].Tokens;
        }

        var sequences = new List<PackedSequence>(contents.Count);
        for (var s = 0; s < contents.Count; s++)
        {
            var offset = 0;
            var segments = new List<PackedSegment>(contents[s].Count);
            foreach (var item in contents[s])
            {
                segments.Add(new PackedSegment(item, s, offset, grids[item]));
                offset += (int)grids[item].Tokens;
            }

            sequences.Add(new PackedSequence(s, segments, TokenBudget));
        }

        return new PackedBatch(sequences, TokenBudget, grids.Count);
    }
}
