namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Where one range of a tensor is stored: elements [<see cref="Start"/>, <see cref="End"/>) of the flattened tensor
/// lie in rank <see cref="Rank"/>'s shard object from byte <see cref="Offset"/> on, row-major and little-endian.
/// </summary>
public sealed record TensorPiece(int Rank, long Start, long End, long Offset)
{
    /// <summary>Elements in the piece.</summary>
    public long Count => End - Start;
}
