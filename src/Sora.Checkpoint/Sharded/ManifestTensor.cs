using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>One tensor of a checkpoint: its full shape and dtype, and the pieces (in order of <c>Start</c>) that together hold all its elements.</summary>
public sealed record ManifestTensor(string Name, TensorKind Kind, IReadOnlyList<long> Shape, ScalarType DType, IReadOnlyList<TensorPiece> Pieces)
{
    /// <summary>Elements in the full tensor.</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Bytes of the full tensor.</summary>
    public long ByteCount => checked(Numel * DType.ElementSize());
}
