namespace Sora.Checkpoint.Sharded;

/// <summary>
/// What a loading rank wants of one tensor: elements [<see cref="Start"/>, <see cref="End"/>) of its row-major
/// flattening (returned as a 1-D tensor), or the whole tensor in its shape (<see cref="Full"/>).
/// </summary>
public sealed record TensorRequest(string Name, long? Start = null, long? End = null)
{
    /// <summary>True when the whole tensor is asked for, in its own shape.</summary>
    public bool IsFull => Start is null && End is null;

    /// <summary>The whole tensor.</summary>
    public static TensorRequest Full(string name) => new(name);

    /// <summary>A flat range of the tensor.</summary>
    public static TensorRequest Range(string name, long start, long end) => new(name, start, end);

    /// <summary>
    /// Rank <paramref name="rank"/>'s part when the tensor is split evenly over <paramref name="worldSize"/> ranks the
    /// way FSDP splits a flat parameter: blocks of ceil(numel / world) elements, the last ones short or empty.
    /// </summary>
    public static TensorRequest EvenShard(ManifestTensor tensor, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        var block = (tensor.Numel + worldSize - 1) / worldSize;
        var start = Math.Min(tensor.Numel, rank * block);
        return Range(tensor.Name, start, Math.Min(tensor.Numel, start + block));
    }
}
