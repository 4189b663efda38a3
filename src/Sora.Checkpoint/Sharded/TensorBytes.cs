using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// A range of a new CPU tensor's bytes as <see cref="Memory{T}"/>, so that a store's stream can read straight into
/// the tensor (<see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>) without a staging copy. Tensor memory
/// is native and never moves, so pinning is a no-op; the tensor must outlive the memory.
/// </summary>
internal sealed unsafe class TensorBytes(Tensor tensor, long byteOffset, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => tensor.AsWritableBytes(byteOffset, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        var span = GetSpan();
        return new MemoryHandle(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetReference(span), elementIndex)));
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
