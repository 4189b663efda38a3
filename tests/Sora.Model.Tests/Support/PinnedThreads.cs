using Sora.Torch;

namespace Sora.Model.Tests.Support;

/// <summary>
/// Pins libtorch's and OpenBLAS's thread counts for a test that trains, and restores them when disposed: how a matrix
/// product or a reduction is split between threads decides its rounding, and over a training run the rounding decides
/// the result, so a run must not depend on the machine's core count. Only for tests of
/// <see cref="GlobalRandomCollection"/>, which run alone (the counts are process-wide).
/// </summary>
internal sealed class PinnedThreads : IDisposable
{
    private readonly int _intraOp = TorchRuntime.IntraOpThreads;
    private readonly int _blas = TorchRuntime.BlasThreads;

    public PinnedThreads(int threads = 2) => TorchRuntime.SetThreads(threads);

    public void Dispose()
    {
        TorchRuntime.IntraOpThreads = _intraOp;
        if (_blas > 0)
        {
            TorchRuntime.BlasThreads = _blas;
        }
    }
}
