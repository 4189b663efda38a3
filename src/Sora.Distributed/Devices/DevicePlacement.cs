using System.Globalization;
using Sora.Torch;
using Sora.Torch.Distributed;

namespace Sora.Distributed.Devices;

/// <summary>
/// Where one rank trains and how it talks to the others: <c>cuda:LOCAL_RANK</c> with NCCL, or the CPU with Gloo. Chosen
/// in one place, <see cref="Choose"/>, from the rank's local rank (its index among its node's workers), the job's
/// setting, whether the shim was built with CUDA and how many devices this process sees; every command that trains,
/// samples or evaluates asks it, and a device that cannot be used is refused there, before anything starts.
/// </summary>
/// <param name="Device">The rank's model, optimizer state, EMA, flat shards, gradient buckets and batches live here.</param>
/// <param name="Backend">The collectives' transport: NCCL for CUDA tensors, Gloo for CPU ones.</param>
public sealed record DevicePlacement(Device Device, ProcessGroupBackend Backend)
{
    /// <summary>The environment variable an agent gives each worker: its index among the node's workers.</summary>
    public const string LocalRankVariable = "SORA_LOCAL_RANK";

    /// <summary>The CPU with Gloo: what every rank gets without CUDA.</summary>
    public static DevicePlacement Cpu { get; } = new(Device.Cpu, ProcessGroupBackend.Gloo);

    public bool IsCuda => Device.Type == DeviceType.Cuda;

    /// <summary>
    /// The device and backend of the rank with local rank <paramref name="localRank"/> (a pure function: every input is an
    /// argument). <c>auto</c> is CUDA when <paramref name="buildHasCuda"/> and a device is visible, else the CPU; <c>cuda</c>
    /// without a CUDA build or without a visible device, and a CUDA rank whose local rank has no device of its own, are
    /// refused with a <see cref="DeviceRefusedException"/> naming why and the fix.
    /// </summary>
    /// <param name="localRank">The rank's index among its node's workers (0 for a single process).</param>
    /// <param name="setting">The job's <c>device</c> (or <c>--device</c>).</param>
    /// <param name="buildHasCuda">Whether the native shim was compiled against a CUDA libtorch.</param>
    /// <param name="visibleDevices">CUDA devices this process sees (after CUDA_VISIBLE_DEVICES).</param>
    public static DevicePlacement Choose(int localRank, DeviceSetting setting, bool buildHasCuda, int visibleDevices)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localRank);
        ArgumentOutOfRangeException.ThrowIfNegative(visibleDevices);
        var name = Name(setting);
        switch (setting)
        {
            case DeviceSetting.Cpu:
            case DeviceSetting.Auto when !buildHasCuda || visibleDevices == 0:
                return Cpu;
            case DeviceSetting.Cuda when !buildHasCuda:
                throw new DeviceRefusedException(name,
                    "this build of the native shim has no CUDA (it was compiled against a CPU-only libtorch)",
                    "build the shim against a CUDA libtorch (export SORA_TORCH_ROOT=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))'), " +
                    "then dotnet build; docs/native-boundary.md, \"Building against a CUDA libtorch\"), or train on the CPU with device: cpu or auto");
            case DeviceSetting.Cuda when visibleDevices == 0:
                throw new DeviceRefusedException(name,
                    "no CUDA device is visible to this process (no GPU or driver on this node, or CUDA_VISIBLE_DEVICES hides them)",
                    "run on a node whose GPUs nvidia-smi lists (on Kubernetes, nodes.gpusPerNode > 0 requests nvidia.com/gpu), or train on the CPU with device: cpu or auto");
        }

        if (localRank >= visibleDevices)
        {
            throw new DeviceRefusedException(name,
                $"local rank {localRank} needs cuda:{localRank} but {visibleDevices} CUDA device{(visibleDevices == 1 ? " is" : "s are")} visible (one rank per device: NCCL refuses two ranks on one GPU)",
                $"start at most {visibleDevices} worker{(visibleDevices == 1 ? "" : "s")} per node (--nproc-per-node {visibleDevices}), or train on the CPU with device: cpu");
        }

        return new DevicePlacement(Device.Cuda(localRank), ProcessGroupBackend.Nccl);
    }

    /// <summary>
    /// Workers per node when <c>--nproc-per-node</c> is not given (torchrun's <c>gpu</c> choice): one per visible device
    /// when the setting resolves to CUDA, else one. Refuses what <see cref="Choose"/> refuses.
    /// </summary>
    public static int DefaultProcessesPerNode(DeviceSetting setting, bool buildHasCuda, int visibleDevices) =>
        Choose(0, setting, buildHasCuda, visibleDevices).IsCuda ? visibleDevices : 1;

    /// <summary><see cref="Choose"/> for this process: the shim's build and the devices it sees.</summary>
    public static DevicePlacement ForThisProcess(DeviceSetting setting, int localRank) =>
        Choose(localRank, setting, TorchRuntime.BuiltWithCuda, TorchRuntime.CudaDeviceCount);

    /// <summary><see cref="DefaultProcessesPerNode(DeviceSetting, bool, int)"/> for this machine.</summary>
    public static int DefaultProcessesPerNode(DeviceSetting setting) =>
        DefaultProcessesPerNode(setting, TorchRuntime.BuiltWithCuda, TorchRuntime.CudaDeviceCount);

    /// <summary>
    /// A worker's local rank: <paramref name="value"/> (the agent's SORA_LOCAL_RANK) when set, else <paramref name="fallback"/>
    /// (a single-node launcher's rank). A value that is not a non-negative integer is an error naming the variable.
    /// </summary>
    public static int LocalRank(string? value, int fallback)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var rank)
            ? rank
            : throw new ArgumentException($"{LocalRankVariable}={value}: must be a non-negative integer (the worker's index on its node)");
    }

    /// <summary>This worker's local rank: SORA_LOCAL_RANK, else <paramref name="fallback"/>.</summary>
    public static int LocalRankFromEnvironment(int fallback) => LocalRank(Environment.GetEnvironmentVariable(LocalRankVariable), fallback);

    /// <summary>Makes the device this process's current one (CUDA: new streams and NCCL's barrier use it); nothing on the CPU.</summary>
    public DevicePlacement Activate()
    {
        if (IsCuda)
        {
            TorchRuntime.CudaSetDevice(Device.Index);
        }

        return this;
    }

    /// <summary>The setting as written in a job file and on the command line.</summary>
    public static string Name(DeviceSetting setting) => setting.ToString().ToLowerInvariant();

    public override string ToString() => $"{Device} ({Backend.ToString().ToUpperInvariant()})";
}
