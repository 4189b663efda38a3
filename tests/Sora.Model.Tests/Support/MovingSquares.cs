using Sora.Torch;

namespace Sora.Model.Tests.Support;

/// <summary>
/// Deterministic synthetic videos in [−1, 1]: one or two coloured squares moving in straight lines, bouncing off
/// the borders, over a plain background. Enough structure to learn, none of it in a per-clip mean colour.
/// </summary>
internal static class MovingSquares
{
    /// <summary>(count, 3, frames, height, width) clips; the same seed gives the same clips.</summary>
    public static Tensor Clips(int count, int seed, int frames = 8, int height = 32, int width = 32)
    {
        var random = new Random(seed);
        var frameSize = height * width;
        var clipSize = 3 * frames * frameSize;
        var data = new float[count * clipSize];
        for (var clip = 0; clip < count; clip++)
        {
            var pixels = data.AsSpan(clip * clipSize, clipSize);
            var background = Colour(random, 0.6);
            for (var c = 0; c < 3; c++)
            {
                pixels.Slice(c * frames * frameSize, frames * frameSize).Fill(background[c]);
            }

            var squares = random.Next(1, 3);
            for (var s = 0; s < squares; s++)
            {
                var size = random.Next(6, 13);
                var colour = Colour(random, 1.0);
                var (y, x) = (random.Next(0, height - size + 1), random.Next(0, width - size + 1));
                var (vy, vx) = (random.Next(-2, 3), random.Next(-2, 3));
                for (var t = 0; t < frames; t++)
                {
                    var top = Bounce(y + (vy * t), height - size);
                    var left = Bounce(x + (vx * t), width - size);
                    for (var c = 0; c < 3; c++)
                    {
                        for (var row = top; row < top + size; row++)
                        {
                            pixels.Slice((((c * frames) + t) * frameSize) + (row * width) + left, size).Fill(colour[c]);
                        }
                    }
                }
            }
        }

        return Tensor.FromArray(data, count, 3, frames, height, width);
    }

    private static float[] Colour(Random random, double amplitude) =>
        [(float)(amplitude * ((2 * random.NextDouble()) - 1)), (float)(amplitude * ((2 * random.NextDouble()) - 1)), (float)(amplitude * ((2 * random.NextDouble()) - 1))];

    // Reflects a position that ran past [0, max] back inside, as a ball bouncing off a wall.
    private static int Bounce(int position, int max)
    {
        if (max == 0)
        {
            return 0;
        }

        var period = 2 * max;
        var p = ((position % period) + period) % period;
        return p <= max ? p : period - p;
    }
}
