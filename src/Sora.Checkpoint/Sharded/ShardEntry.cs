using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>One tensor range inside one shard object: the tensor's name, kind, full shape and dtype, the element range and its byte offset in the object.</summary>
public sealed record ShardEntry(string Name, TensorKind Kind, IReadOnlyList<long> Shape, ScalarType DType, long Start, long End, long Offset);
