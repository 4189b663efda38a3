using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>A host copy of one rank's range of a tensor (<see cref="ShardedTensorSpec"/> without the live tensor): raw little-endian bytes.</summary>
public sealed record HostTensorRange(string Name, TensorKind Kind, IReadOnlyList<long> Shape, ScalarType DType, long Start, long End, byte[] Data);
