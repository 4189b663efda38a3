using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// This rank's part of one tensor: the whole tensor's name, shape and dtype, and the elements
/// [<see cref="Start"/>, <see cref="End"/>) of its row-major flattening, held by <see cref="Local"/> (any shape
/// with End - Start elements, any device). A replicated tensor (DDP) is the range [0, numel) on one rank.
/// </summary>
/// <param name="Name">Unique within a checkpoint, e.g. <c>blocks.0.attn.qkv.weight</c> or <c>optim/blocks.0.attn.qkv.weight/exp_avg</c>.</param>
/// <param name="Kind">Model weights, optimizer state or EMA.</param>
/// <param name="Shape">The full tensor's shape.</param>
/// <param name="DType">The element type (the same on every rank).</param>
/// <param name="Start">First element of the flattened full tensor held here.</param>
/// <param name="End">One past the last element held here.</param>
/// <param name="Local">The elements of the range; not owned by the spec.</param>
public sealed record ShardedTensorSpec(string Name, TensorKind Kind, IReadOnlyList<long> Shape, ScalarType DType, long Start, long End, Tensor Local)
{
    /// <summary>A tensor held whole by this rank.</summary>
    public static ShardedTensorSpec Whole(string name, TensorKind kind, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new ShardedTensorSpec(name, kind, tensor.Shape, tensor.DType, 0, tensor.NumElements, tensor);
    }

    /// <summary>Elements in the full tensor.</summary>
    public long FullNumel => Shape.Aggregate(1L, (a, b) => checked(a * b));
}
