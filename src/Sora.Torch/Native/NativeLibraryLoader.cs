using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

/// <summary>Finds libsora_torch.so next to the assembly and prepares the process environment before libtorch loads.</summary>
internal static partial class NativeLibraryLoader
{
    internal const string LibraryName = "sora_torch";
    internal const int ExpectedAbiVersion = 5;

    /// <summary>The default of <c>OPENBLAS_THREAD_TIMEOUT</c>: log2 of the cycles an idle OpenBLAS worker spins before it sleeps.</summary>
    internal const string OpenBlasThreadTimeout = "16";

    private static IntPtr s_library;

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The resolver must be in place before the first P/Invoke of any entry point.")]
    internal static void Initialize()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName)
        {
            return IntPtr.Zero;
        }

        if (s_library != IntPtr.Zero)
        {
            return s_library;
        }

        // libgomp and OpenBLAS read these when they load, which is now: .NET's
        // Environment.SetEnvironmentVariable would not reach them, setenv does.
        // Spinning OpenMP workers fight OpenBLAS's threads on few cores (ENVIRONMENT.md: 2.0 s -> 1.1 s a step).
        SetDefaultEnvironment("OMP_WAIT_POLICY", "PASSIVE");
        // OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after each product, so the elementwise kernels that
        // follow a GEMM on libtorch's OpenMP threads share a core with a spinner. 2^16 cycles (~30 µs) still covers
        // the gap between back-to-back products (a bmm's matrices): `bench` step 1506 -> 1370 ms (mean of 3 pairs).
        SetDefaultEnvironment("OPENBLAS_THREAD_TIMEOUT", OpenBlasThreadTimeout);
        TuneAllocator();

        var candidates = new List<string>();
        var overridePath = Environment.GetEnvironmentVariable("SORA_TORCH_NATIVE");
        if (!string.IsNullOrEmpty(overridePath))
        {
            candidates.Add(overridePath);
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "libsora_torch.so"));
        var assemblyDir = Path.GetDirectoryName(assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDir))
        {
            candidates.Add(Path.Combine(assemblyDir, "libsora_torch.so"));
        }

        var errors = new List<string>();
        foreach (var path in candidates.Distinct())
        {
            if (!File.Exists(path))
            {
                errors.Add($"{path}: not found");
                continue;
            }

            try
            {
                var library = NativeLibrary.Load(path);
                CheckAbiVersion(library, path);
                s_library = library;
                return s_library;
            }
            catch (DllNotFoundException e)
            {
                errors.Add($"{path}: {e.Message}");
            }
        }

        throw new DllNotFoundException(
            "Cannot load the libtorch shim libsora_torch.so. Build it with `dotnet build` (it needs Debian's libtorch-dev; " +
            "run ./scripts/bootstrap.sh). Tried: " + string.Join("; ", errors));
    }

    private static unsafe void CheckAbiVersion(IntPtr library, string path)
    {
        var abiVersion = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "sora_abi_version");
        var actual = abiVersion();
        if (actual != ExpectedAbiVersion)
        {
            throw new DllNotFoundException(
                $"{path} has native ABI version {actual} but Sora.Torch expects {ExpectedAbiVersion}; rebuild with `dotnet build`.");
        }
    }

    private static void SetDefaultEnvironment(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            _ = setenv(name, value, 0);
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    // glibc's defaults hand freed memory back to the kernel as soon as 128 KiB sit free at the top of the heap and
    // mmap every large block afresh, so each training step page-faults its activations in again (a third of the
    // CPU time went to the kernel). Keep freed memory for reuse instead: the largest mmap threshold glibc accepts
    // (32 MiB), trim only past 1 GiB, grow the heap 64 MiB at a time. A user's MALLOC_* variables win.
    private static void TuneAllocator()
    {
        if (Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal))
            || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { Length: > 0 })
        {
            return;
        }

        const int trimThreshold = -1, topPad = -2, mmapThreshold = -3;
        try
        {
            _ = mallopt(mmapThreshold, 32 << 20);
            _ = mallopt(trimThreshold, 1 << 30);
            _ = mallopt(topPad, 64 << 20);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl): nothing to tune.
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc")]
    private static partial int mallopt(int param, int value);
}
