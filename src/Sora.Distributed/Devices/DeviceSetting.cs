namespace Sora.Distributed.Devices;

/// <summary>The job's <c>device</c> key and the commands' <c>--device</c>: where the job's ranks train.</summary>
public enum DeviceSetting
{
    /// <summary>A CUDA device when the shim was built with CUDA and one is visible, else the CPU.</summary>
    Auto,

    /// <summary>The CPU (collectives over Gloo).</summary>
    Cpu,

    /// <summary>A CUDA device, one per rank on its node (collectives over NCCL); refused where there is none.</summary>
    Cuda,
}
