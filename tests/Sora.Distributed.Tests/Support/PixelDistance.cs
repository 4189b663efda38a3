using Sora.Data.Video;

namespace Sora.Distributed.Tests.Support;

/// <summary>How far apart two clips (or frames) of the same size are: the mean absolute difference of their bytes, 0 to 255.</summary>
internal static class PixelDistance
{
    public static double Between(VideoClip a, VideoClip b)
    {
        var pa = a.Pixels;
        var pb = b.Pixels;
        if (pa.Length != pb.Length)
        {
            throw new ArgumentException($"{a} and {b} differ in size");
        }

        double total = 0;
        for (var i = 0; i < pa.Length; i++)
        {
            total += Math.Abs(pa[i] - pb[i]);
        }

        return total / pa.Length;
    }

    /// <summary>Between the first and the last frame of <paramref name="clip"/>.</summary>
    public static double FirstToLast(VideoClip clip) => Between(clip.Slice(0, 1), clip.Slice(clip.Frames - 1, 1));
}
