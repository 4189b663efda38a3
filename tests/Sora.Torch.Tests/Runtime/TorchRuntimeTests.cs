using System.Runtime.InteropServices;
using Sora.Torch.Native;
using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Reports_the_libtorch_version_and_parallel_backend()
    {
        TorchRuntime.TorchVersion.Should().MatchRegex(@"^\d+\.\d+");
        TorchRuntime.ParallelInfo.Should().Contain("ATen/Parallel");
    }

    [SystemLibtorchFact]
    public void The_blas_behind_matrix_products_is_openblas()
    {
        // The bootstrap installs libopenblas0-pthread; with the reference BLAS every GEMM is ~25x slower.
        var blas = TorchRuntime.Blas;
        blas.IsOpenBlas.Should().BeTrue($"sgemm_ comes from {blas.Library}");
        blas.Warning.Should().BeNull();
        new BlasReport("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", "").Warning.Should().Contain("25x slower").And.Contain("libopenblas0-pthread");
        new BlasReport("/opt/venv/lib/python3.12/site-packages/torch/lib/libtorch_cpu.so", "").Warning.Should().BeNull("PyTorch's libtorch carries MKL");
    }

    [SystemLibtorchFact]
    public void Thread_counts_can_be_set_and_read_back()
    {
        var before = TorchRuntime.IntraOpThreads;
        try
        {
            TorchRuntime.SetThreads(1);
            TorchRuntime.IntraOpThreads.Should().Be(1);
            TorchRuntime.BlasThreads.Should().Be(1);
        }
        finally
        {
            TorchRuntime.IntraOpThreads = before;
        }
    }

    [Fact]
    public void Thread_tuning_reaches_the_native_environment_unless_the_user_set_it()
    {
        // libgomp and OpenBLAS read these from the C environment when the shim loads them; .NET's own copy of the
        // environment would not reach them. /proc/self/environ is the environment the process started with.
        _ = TorchRuntime.TorchVersion;
        var started = File.ReadAllText("/proc/self/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        foreach (var (name, fallback) in new[] { ("OMP_WAIT_POLICY", "PASSIVE"), ("OPENBLAS_THREAD_TIMEOUT", NativeLibraryLoader.OpenBlasThreadTimeout) })
        {
            var expected = started.TryGetValue(name, out var user) && user.Length > 0 ? user : fallback;
            Marshal.PtrToStringUTF8(getenv(name)).Should().Be(expected, $"{name} in the C environment");
            Environment.GetEnvironmentVariable(name).Should().Be(expected, $"{name} as .NET sees it");
        }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern IntPtr getenv(string name);
}
