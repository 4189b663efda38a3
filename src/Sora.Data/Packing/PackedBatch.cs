using Sora.Torch;

namespace Sora.Data.Packing;

/// <summary>
/// The result of packing: sequences of <see cref="TokenBudget"/> tokens, each holding whole samples end to end and
/// then padding. Gives the model what it needs per token (segment id and (t, h, w) position at the sample's native
/// size, from which the block-diagonal attention mask is built), packs per-sample tokens into sequences and unpacks
/// the model's output back into per-sample tokens.
/// </summary>
public sealed class PackedBatch
{
    /// <summary>The segment id of padding tokens.</summary>
    public const long PaddingSegment = -1;

    private readonly PackedSegment[] _byItem;

    internal PackedBatch(IReadOnlyList<PackedSequence> sequences, int tokenBudget, int items)
    {
        Sequences = sequences;
        TokenBudget = tokenBudget;
        _byItem = new PackedSegment[items];
        foreach (var segment in sequences.SelectMany(s => s.Segments))
        {
            _byItem[segment.Item] = segment;
        }
    }

    public IReadOnlyList<PackedSequence> Sequences { get; }

    /// <summary>Length of every sequence, in tokens.</summary>
    public int TokenBudget { get; }

    /// <summary>Samples packed.</summary>
    public int Items => _byItem.Length;

    /// <summary>Where sample <paramref name="item"/> sits.</summary>
    public PackedSegment Segment(int item) => _byItem[item];

    /// <summary>Tokens that carry a sample.</summary>
    public long UsedTokens => _byItem.Sum(s => (long)s.Tokens);

    /// <summary>Fraction of all sequences' budget that is padding (0 = perfectly packed).</summary>
    public double PaddingWaste => Sequences.Count == 0 ? 0 : 1 - ((double)UsedTokens / ((long)Sequences.Count * TokenBudget));

    /// <summary>(sequences, budget) int64: each token's sample index, <see cref="PaddingSegment"/> for padding.</summary>
    public Tensor SegmentIds()
    {
        var ids = new long[Sequences.Count * TokenBudget];
        Array.Fill(ids, PaddingSegment);
        foreach (var segment in _byItem)
        {
            ids.AsSpan((segment.Sequence * TokenBudget) + segment.Offset, segment.Tokens).Fill(segment.Item);
        }

        return Tensor.FromSpan<long>(ids, [Sequences.Count, TokenBudget]);
    }

    /// <summary>(sequences, budget, 3) int64: each token's (t, h, w) in its own sample's grid, in (t, h, w) order; 0 for padding.</summary>
    public Tensor PositionIds()
    {
        var positions = new long[Sequences.Count * TokenBudget * 3];
        foreach (var segment in _byItem)
        {
            var at = ((segment.Sequence * TokenBudget) + segment.Offset) * 3;
            var grid = segment.Grid;
            for (var t = 0; t < grid.T; t++)
            {
                for (var h = 0; h < grid.H; h++)
                {
                    for (var w = 0; w < grid.W; w++)
                    {
                        positions[at++] = t;
                        positions[at++] = h;
                        positions[at++] = w;
                    }
                }
            }
        }

        return Tensor.FromSpan<long>(positions, [Sequences.Count, TokenBudget, 3]);
    }

    /// <summary>Lays per-sample tokens (one (tokens, width) tensor per item) into (sequences, budget, width), padding with zeros.</summary>
    public Tensor PackTokens(IReadOnlyList<Tensor> perItem)
    {
        ArgumentNullException.ThrowIfNull(perItem);
        if (perItem.Count != Items)
        {
            throw new ArgumentException($"the batch packs {Items} samples but {perItem.Count} token tensors were given", nameof(perItem));
        }

        var width = perItem.Count == 0 ? 0 : perItem[0].Size(-1);
        for (var i = 0; i < perItem.Count; i++)
        {
            var shape = perItem[i].Shape;
            if (shape.Length != 2 || shape[0] != _byItem[i].Tokens || shape[1] != width)
            {
                throw new ArgumentException(
                    $"sample {i}: expected tokens ({_byItem[i].Tokens}, {width}) for its grid {_byItem[i].Grid}, got [{string.Join(", ", shape)}]", nameof(perItem));
            }
        }

        using var scope = Tensor.NewDisposeScope();
        var sequences = Sequences.Select(sequence =>
        {
            var parts = sequence.Segments.Select(s => perItem[s.Item]).ToList();
            var padding = TokenBudget - sequence.UsedTokens;
            if (padding > 0)
            {
                parts.Add(Tensor.Zeros([padding, width], perItem[0].DType, perItem[0].Device));
            }

            return Tensor.Cat(parts.ToArray());
        }).ToArray();
        return scope.MoveToOuter(Tensor.Stack(sequences));
    }

    /// <summary>Splits (sequences, budget, width) back into one (tokens, width) view per item, in item order.</summary>
    public Tensor[] Unpack(Tensor packed)
    {
        ArgumentNullException.ThrowIfNull(packed);
        if (packed.Dim != 3 || packed.Size(0) != Sequences.Count || packed.Size(1) != TokenBudget)
        {
            throw new ArgumentException(
                $"expected packed tokens ({Sequences.Count}, {TokenBudget}, width), got [{string.Join(", ", packed.Shape)}]", nameof(packed));
        }

        return _byItem.Select(s => packed.Select(0, s.Sequence).Narrow(0, s.Offset, s.Tokens)).ToArray();
    }
}
