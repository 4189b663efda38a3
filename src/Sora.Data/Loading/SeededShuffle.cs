using Sora.Data.Synthetic;

namespace Sora.Data.Loading;

/// <summary>
/// Fisher-Yates shuffles driven by SplitMix64 streams derived from (seed, stream, epoch, index): the same
/// permutation on every machine and runtime, and any one permutation can be made without making the others.
/// </summary>
internal static class SeededShuffle
{
    /// <summary>Streams of randomness the loaders draw from; distinct values keep their permutations independent.</summary>
    public enum Stream : ulong
    {
        ShardOrder = 1,
        WindowSamples = 2,
    }

    /// <summary>An independent generator for one (stream, epoch, index) of a seed.</summary>
    public static SplitMix64 Random(ulong seed, Stream stream, long epoch, long index)
    {
        var mixed = SplitMix64.Mix(unchecked(((ulong)stream * 0xD1B54A32D192ED03UL) ^ SplitMix64.Mix((ulong)epoch)));
        return new SplitMix64(SplitMix64.Mix(seed ^ SplitMix64.Mix(unchecked(mixed + ((ulong)index * 0x9E3779B97F4A7C15UL)))));
    }

    /// <summary>Shuffles <paramref name="items"/> in place.</summary>
    public static void Shuffle<T>(Span<T> items, SplitMix64 random)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = random.NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
