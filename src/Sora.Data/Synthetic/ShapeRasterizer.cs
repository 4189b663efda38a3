using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>
/// Draws anti-aliased shapes with integer arithmetic only (positions in 1/64 pixel, 4×4 samples per pixel), so a
/// frame's bytes are the same on every machine.
/// </summary>
internal static class ShapeRasterizer
{
    /// <summary>Fixed-point units per pixel.</summary>
    public const int Unit = 64;

    private const int SamplesPerSide = 4;
    private const int SampleStep = Unit / SamplesPerSide;
    private const int Samples = SamplesPerSide * SamplesPerSide;

    /// <summary>
    /// Blends <paramref name="shape"/> in <paramref name="color"/> onto <paramref name="frame"/> (H × W × 3), its bounding box
    /// <paramref name="size"/> units wide with its top-left corner at (<paramref name="left"/>, <paramref name="top"/>) units.
    /// </summary>
    public static void Draw(Span<byte> frame, int height, int width, ShapeKind shape, Rgb color, long left, long top, long size)
    {
        var x0 = (int)Math.Max(0, left / Unit);
        var y0 = (int)Math.Max(0, top / Unit);
        var x1 = (int)Math.Min(width - 1, (left + size) / Unit);
        var y1 = (int)Math.Min(height - 1, (top + size) / Unit);
        for (var y = y0; y <= y1; y++)
        {
            for (var x = x0; x <= x1; x++)
            {
                var covered = 0;
                for (var j = 0; j < SamplesPerSide; j++)
                {
                    var v = ((long)y * Unit) + (SampleStep / 2) + (j * SampleStep) - top;
                    for (var i = 0; i < SamplesPerSide; i++)
                    {
                        var u = ((long)x * Unit) + (SampleStep / 2) + (i * SampleStep) - left;
                        covered += Inside(shape, u, v, size) ? 1 : 0;
                    }
                }

                if (covered > 0)
                {
                    var p = ((y * width) + x) * 3;
                    frame[p] = Blend(frame[p], color.R, covered);
                    frame[p + 1] = Blend(frame[p + 1], color.G, covered);
                    frame[p + 2] = Blend(frame[p + 2], color.B, covered);
                }
            }
        }
    }

    /// <summary>Whether the point (u, v), relative to the bounding box's top-left corner, is inside the shape.</summary>
    private static bool Inside(ShapeKind shape, long u, long v, long size)
    {
        if (u < 0 || v < 0 || u >= size || v >= size)
        {
            return false;
        }

        return shape switch
        {
            ShapeKind.Square => true,
            ShapeKind.Circle => Square((2 * u) - size) + Square((2 * v) - size) <= Square(size),

            // Apex at the top centre, base along the bottom: half width v/2 at depth v.
            ShapeKind.Triangle => Math.Abs((2 * u) - size) <= v,
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown shape"),
        };
    }

    private static long Square(long value) => value * value;

    private static byte Blend(byte under, byte over, int covered) =>
        (byte)(((under * (Samples - covered)) + (over * covered) + (Samples / 2)) / Samples);
}
