namespace Sora.Data.Synthetic;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): integer-only,
/// so the same seed gives the same numbers on every machine and runtime, which System.Random does not promise.
/// </summary>
internal struct SplitMix64
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>An independent stream for item <paramref name="index"/> of a dataset seeded with <paramref name="seed"/>.</summary>
    public static SplitMix64 ForItem(ulong seed, long index) =>
        new(Mix(seed ^ Mix(unchecked(((ulong)index * GoldenGamma) + 0x632BE59BD9B4E019UL))));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        _state = unchecked(_state + GoldenGamma);
        return Mix(_state);
    }

    /// <summary>Uniform in [0, <paramref name="count"/>) (Lemire's multiply-shift; its bias is below 2⁻³² for the counts used here).</summary>
    public int NextBelow(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)Math.BigMul(Next(), (ulong)count, out _);
    }

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>], both included.</summary>
    public long NextInclusive(long low, long high)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(high, low);
        var span = (ulong)(high - low) + 1;
        return low + (long)Math.BigMul(Next(), span, out _);
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[NextBelow(items.Count)];
}
