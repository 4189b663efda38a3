namespace Sora.Distributed.Training;

/// <summary>How the trainer spreads a step over the ranks of its process group.</summary>
public enum DataParallelism
{
    /// <summary>Every rank holds the whole model; gradients are all-reduced in buckets during backward.</summary>
    Ddp,

    /// <summary>Parameters, gradients and optimizer state are sharded (ZeRO-3); units are gathered as they run.</summary>
    Fsdp,
}
