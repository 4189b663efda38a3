using Sora.Torch;

namespace Sora.Distributed.Tests.Parallel;

/// <summary>
/// Seeded global batches of a small regression problem (6 inputs, 3 targets, 12 samples) and each rank's
/// share of them, for the data-parallel parity tests.
/// </summary>
internal static class RegressionBatches
{
    public const int GlobalBatch = 12;
    public const int Inputs = 6;
    public const int Targets = 3;

    public static (float[] Inputs, float[] Targets) Batch(ulong seed)
    {
        var random = new Random((int)seed);
        var inputs = Enumerable.Range(0, GlobalBatch * Inputs).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        var targets = Enumerable.Range(0, GlobalBatch * Targets).Select(_ => (float)random.NextDouble()).ToArray();
        return (inputs, targets);
    }

    /// <summary>Rank <paramref name="rank"/>'s contiguous share of a global batch, as tensors.</summary>
    public static (Tensor X, Tensor Y) Slice(float[] inputs, float[] targets, int rank, int worldSize)
    {
        var share = GlobalBatch / worldSize;
        return (Tensor.FromArray(inputs[(rank * share * Inputs)..((rank + 1) * share * Inputs)], share, Inputs),
                Tensor.FromArray(targets[(rank * share * Targets)..((rank + 1) * share * Targets)], share, Targets));
    }
}
