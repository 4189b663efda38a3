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
}
