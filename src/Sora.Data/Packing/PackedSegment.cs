namespace Sora.Data.Packing;

/// <summary>Where one sample's tokens sit in a packed batch.</summary>
/// <param name="Item">The sample's index in the list given to the packer; also its segment id.</param>
/// <param name="Sequence">The sequence holding it.</param>
/// <param name="Offset">Its first token's position in the sequence.</param>
/// <param name="Grid">Its token grid at native size.</param>
public sealed record PackedSegment(int Item, int Sequence, int Offset, TokenGrid Grid)
{
    public int Tokens => (int)Grid.Tokens;
}

/// <summary>One packed sequence: samples laid end to end, then padding up to the token budget.</summary>
/// <param name="Index">The sequence's index in the batch.</param>
/// <param name="Segments">Its samples in token order.</param>
/// <param name="Budget">Its length in tokens.</param>
public sealed record PackedSequence(int Index, IReadOnlyList<PackedSegment> Segments, int Budget)
{
    public int UsedTokens => Segments.Sum(s => s.Tokens);

    /// <summary>Fraction of the budget that is padding.</summary>
    public double PaddingWaste => 1 - ((double)UsedTokens / Budget);
}
