namespace Sora.Torch.Tests.Support;

/// <summary>
/// A test that needs a GPU: it runs where the shim was built against a CUDA libtorch and a device is
/// visible, and is reported as skipped (with the reason) everywhere else, CPU-only CI included.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!TorchRuntime.BuiltWithCuda)
        {
            Skip = "needs a shim built against a CUDA libtorch (this one is CPU-only)";
        }
        else if (!TorchRuntime.CudaIsAvailable)
        {
            Skip = "needs a CUDA device (none is visible)";
        }
    }
}

/// <summary>
/// A test of the CPU set-up this project installs (Debian's libtorch over OpenBLAS). A CUDA build of the
/// shim links PyTorch's own libtorch, whose BLAS is its own affair, so there it is reported as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SystemLibtorchFactAttribute : FactAttribute
{
    public SystemLibtorchFactAttribute()
    {
        if (TorchRuntime.BuiltWithCuda)
        {
            Skip = "a CUDA build links PyTorch's libtorch and its BLAS, not the system's OpenBLAS";
        }
    }
}
