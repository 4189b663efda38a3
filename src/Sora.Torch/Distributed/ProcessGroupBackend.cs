namespace Sora.Torch.Distributed;

/// <summary>The transport under a process group (mirrors the shim's <c>sora_backend</c>).</summary>
public enum ProcessGroupBackend
{
    /// <summary>Gloo over TCP: CPU tensors.</summary>
    Gloo = 0,

    /// <summary>NCCL: CUDA tensors; compiled in only when the shim was built against a CUDA libtorch.</summary>
    Nccl = 1,
}
