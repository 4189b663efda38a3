namespace Sora.Torch.Distributed;

/// <summary>How a collective combines the ranks' values (mirrors the shim's <c>sora_reduce_op</c>).</summary>
public enum ReduceOp
{
    /// <summary>Elementwise sum.</summary>
    Sum = 0,

    /// <summary>Elementwise mean over the ranks (Gloo: a sum divided by the world size; floating point only).</summary>
    Avg = 1,

    /// <summary>Elementwise maximum.</summary>
    Max = 2,

    /// <summary>Elementwise minimum.</summary>
    Min = 3,

    /// <summary>Elementwise product.</summary>
    Product = 4,
}
