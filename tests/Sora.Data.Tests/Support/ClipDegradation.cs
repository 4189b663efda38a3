using Sora.Data.Video;

namespace Sora.Data.Tests.Support;

/// <summary>Makes clean synthetic clips look like imperfect generated ones: Gaussian noise and blur.</summary>
internal static class ClipDegradation
{
    /// <summary>Adds independent Gaussian noise of standard deviation <paramref name="sigma"/> to every channel, clamped to [0, 255].</summary>
    public static VideoClip AddNoise(VideoClip clip, double sigma, int seed)
    {
        var random = new Random(seed);
        var pixels = clip.Pixels.ToArray();
        for (var i = 0; i < pixels.Length; i++)
        {
            // Box-Muller.
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            pixels[i] = (byte)Math.Clamp(Math.Round(pixels[i] + (sigma * gaussian)), 0, 255);
        }

        return new VideoClip(clip.Frames, clip.Height, clip.Width, pixels);
    }

    /// <summary>Separable Gaussian blur of each frame (edges clamped).</summary>
    public static VideoClip Blur(VideoClip clip, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = Enumerable.Range(-radius, (2 * radius) + 1).Select(k => Math.Exp(-(k * k) / (2 * sigma * sigma))).ToArray();
        var total = kernel.Sum();
        return Convolve(clip, kernel.Select(k => k / total).ToArray());
    }

    /// <summary>The mean of each pixel's (2·<paramref name="radius"/> + 1)² neighbourhood (edges clamped): radius 1 is a 3×3 box blur.</summary>
    public static VideoClip BoxBlur(VideoClip clip, int radius) =>
        Convolve(clip, Enumerable.Repeat(1.0 / ((2 * radius) + 1), (2 * radius) + 1).ToArray());

    /// <summary>Each frame convolved with <paramref name="kernel"/> (odd length, centred) along rows, then along columns.</summary>
    private static VideoClip Convolve(VideoClip clip, double[] kernel)
    {
        var radius = kernel.Length / 2;
        int h = clip.Height, w = clip.Width;
        var output = new byte[clip.Pixels.Length];
        var temp = new double[h * w * 3];
        for (var t = 0; t < clip.Frames; t++)
        {
            var frame = clip.Frame(t);
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        double sum = 0;
                        for (var k = -radius; k <= radius; k++)
                        {
                            sum += kernel[k + radius] * frame[(((y * w) + Math.Clamp(x + k, 0, w - 1)) * 3) + c];
                        }

                        temp[(((y * w) + x) * 3) + c] = sum;
                    }
                }
            }

            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        double sum = 0;
                        for (var k = -radius; k <= radius; k++)
                        {
                            sum += kernel[k + radius] * temp[(((Math.Clamp(y + k, 0, h - 1) * w) + x) * 3) + c];
                        }

                        output[(t * h * w * 3) + (((y * w) + x) * 3) + c] = (byte)Math.Clamp(Math.Round(sum), 0, 255);
                    }
                }
            }
        }

        return new VideoClip(clip.Frames, h, w, output);
    }

    /// <summary>Mean absolute difference per byte between two clips of the same size.</summary>
    public static double MeanAbsoluteError(VideoClip a, VideoClip b)
    {
        a.Pixels.Length.Should().Be(b.Pixels.Length);
        long sum = 0;
        for (var i = 0; i < a.Pixels.Length; i++)
        {
            sum += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        }

        return sum / (double)a.Pixels.Length;
    }
}
