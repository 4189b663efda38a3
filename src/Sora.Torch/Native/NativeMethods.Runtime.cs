using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int sora_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial long sora_generator_get_state(int deviceType, int deviceIndex, byte* buf, long capacity);
    [LibraryImport(Lib)] internal static partial int sora_generator_set_state(int deviceType, int deviceIndex, byte* state, long size);
    [LibraryImport(Lib)] internal static partial int sora_set_num_threads(int n);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int sora_profiler_start(string path);
    [LibraryImport(Lib)] internal static partial int sora_profiler_stop();
    [LibraryImport(Lib)] internal static partial int sora_get_num_threads();
    [LibraryImport(Lib)] internal static partial int sora_set_num_interop_threads(int n);
    [LibraryImport(Lib)] internal static partial int sora_get_num_interop_threads();
    [LibraryImport(Lib)] internal static partial int sora_set_blas_threads(int n);
    [LibraryImport(Lib)] internal static partial int sora_get_blas_threads();
    [LibraryImport(Lib)] internal static partial int sora_blas_library(byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial int sora_blas_config(byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial int sora_torch_version(byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial int sora_parallel_info(byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial int sora_built_with_cuda();
    [LibraryImport(Lib)] internal static partial int sora_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int sora_cuda_synchronize(int deviceIndex);
    [LibraryImport(Lib)] internal static partial int sora_cuda_set_device(int deviceIndex);
    [LibraryImport(Lib)] internal static partial int sora_cuda_memory(int deviceIndex, long* allocated, long* reserved, long* peakAllocated);
    [LibraryImport(Lib)] internal static partial int sora_bench_gemm(long n, int iterations, double* seconds);
    [LibraryImport(Lib)] internal static partial int sora_bench_small_op(int iterations, double* seconds);
}
