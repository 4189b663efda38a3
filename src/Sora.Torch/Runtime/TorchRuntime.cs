using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>Process-wide libtorch facts and settings: versions, threads, BLAS, devices.</summary>
public static unsafe class TorchRuntime
{
    /// <summary>libtorch's version string.</summary>
    public static string TorchVersion => NativeError.ReadString(static (b, c) => NativeMethods.sora_torch_version(b, c));

    /// <summary>at::get_parallel_info(): thread pools and the libraries behind them.</summary>
    public static string ParallelInfo => NativeError.ReadString(static (b, c) => NativeMethods.sora_parallel_info(b, c));

    /// <summary>Threads libtorch uses inside one op.</summary>
    public static int IntraOpThreads
    {
        get => NativeMethods.sora_get_num_threads();
        set => NativeError.Check(NativeMethods.sora_set_num_threads(value));
    }

    /// <summary>Threads libtorch uses to run independent ops concurrently; settable once, before any parallel work.</summary>
    public static int InterOpThreads
    {
        get => NativeMethods.sora_get_num_interop_threads();
        set => NativeError.Check(NativeMethods.sora_set_num_interop_threads(value));
    }

    /// <summary>OpenBLAS's own thread pool (at::set_num_threads does not reach it); -1 when the BLAS is not OpenBLAS.</summary>
    public static int BlasThreads
    {
        get => NativeMethods.sora_get_blas_threads();
        set => NativeError.Check(NativeMethods.sora_set_blas_threads(value));
    }

    /// <summary>Sets libtorch's and OpenBLAS's thread counts together.</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        IntraOpThreads = threads;
        if (BlasThreads > 0)
        {
            BlasThreads = threads;
        }
    }

    public static bool BuiltWithCuda => NativeMethods.sora_built_with_cuda() != 0;

    public static int CudaDeviceCount => NativeError.Check(NativeMethods.sora_cuda_device_count());

    public static bool CudaIsAvailable => CudaDeviceCount > 0;

    /// <summary>Waits for all work queued on a CUDA device.</summary>
    public static void CudaSynchronize(int device = 0) => NativeError.Check(NativeMethods.sora_cuda_synchronize(device));

    /// <summary>Waits for the work queued on <paramref name="device"/>: a CUDA device's queue; nothing on the CPU, where ops run as they are called.</summary>
    public static void Synchronize(Device device)
    {
        if (device.Type == DeviceType.Cuda)
        {
            CudaSynchronize(Math.Max(device.Index, 0));
        }
    }

    /// <summary>Makes <paramref name="device"/> this process's current CUDA device (new streams and NCCL's barrier use it).</summary>
    public static void CudaSetDevice(int device) => NativeError.Check(NativeMethods.sora_cuda_set_device(device));

    /// <summary>The CUDA caching allocator's memory on <paramref name="device"/> (the device must have been used).</summary>
    public static CudaMemory CudaMemoryOf(int device)
    {
        long allocated, reserved, peak;
        NativeError.Check(NativeMethods.sora_cuda_memory(device, &allocated, &reserved, &peak));
        return new CudaMemory(allocated, reserved, peak);
    }

    /// <summary>Which BLAS libtorch's matrix products call, checked in this process.</summary>
    public static BlasReport Blas
    {
        get
        {
            var library = NativeError.ReadString(static (b, c) => NativeMethods.sora_blas_library(b, c));
            var config = NativeError.ReadString(static (b, c) => NativeMethods.sora_blas_config(b, c));
            return new BlasReport(library, config);
        }
    }
}

/// <summary>A CUDA device's memory as libtorch's caching allocator sees it, in bytes.</summary>
/// <param name="Allocated">Held by tensors now.</param>
/// <param name="Reserved">Taken from the driver now: allocated plus cached for reuse (what the process holds on the device).</param>
/// <param name="PeakAllocated">The most ever held by tensors at once.</param>
public readonly record struct CudaMemory(long Allocated, long Reserved, long PeakAllocated);

/// <summary>
/// The BLAS library in use. On the system libtorch only OpenBLAS is fast enough: the reference BLAS is about 25x
/// slower. PyTorch's own libtorch (GPU machines) links MKL into libtorch_cpu, which is fast too.
/// </summary>
/// <param name="Library">Path of the library that provides sgemm_.</param>
/// <param name="OpenBlasConfig">OpenBLAS's configuration string, empty for other BLAS libraries.</param>
public sealed record BlasReport(string Library, string OpenBlasConfig)
{
    public bool IsOpenBlas => OpenBlasConfig.Length > 0 || Library.Contains("openblas", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether sgemm_ is linked into libtorch itself (PyTorch's builds carry MKL inside libtorch_cpu).</summary>
    public bool IsBuiltIntoLibtorch => Path.GetFileName(Library).StartsWith("libtorch_cpu", StringComparison.Ordinal);

    /// <summary>A warning to show when the BLAS is slow (neither OpenBLAS nor built into libtorch), or null when all is well.</summary>
    public string? Warning => IsOpenBlas || IsBuiltIntoLibtorch
        ? null
        : $"libtorch's BLAS is {(Library.Length == 0 ? "unknown" : Library)}, not OpenBLAS: matrix products will run about 25x slower. " +
          "Install it with `apt-get install libopenblas0-pthread` (./scripts/bootstrap.sh does) and check " +
          "`update-alternatives --display libblas.so.3-x86_64-linux-gnu`.";
}
