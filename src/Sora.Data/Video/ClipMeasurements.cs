using Sora.Data.Synthetic;

namespace Sora.Data.Video;

/// <summary>
/// Judges a generated video the way the evaluation does: background colour (and its name), foreground mask, the
/// foreground's colour named from a palette, which way the foreground moved between the first and the last frame,
/// how many separate regions each frame shows, and the largest region's shape.
/// Built to survive blur and noise: a distance threshold for the mask, speckle removal, colours classified by
/// the nearest background→colour blend line (so blurred edges vote for the right colour), the largest-mass colour
/// wins, and shapes are judged from soft coverage with a majority over frames.
/// </summary>
public sealed class ClipMeasurements
{
    /// <summary>Measurements with the default thresholds.</summary>
    public static ClipMeasurements Default { get; } = new();

    /// <summary>RGB (Euclidean, 0 to 441) distance from the background above which a pixel is foreground.</summary>
    public double ForegroundThreshold { get; init; } = 70;

    /// <summary>Centroid travel, as a fraction of the shorter frame side, below which the direction is None.</summary>
    public double MotionThreshold { get; init; } = 0.08;

    /// <summary>Keep a foreground pixel only when at least 5 of the 9 pixels of its 3×3 neighbourhood are foreground (drops noise speckles).</summary>
    public bool RemoveSpeckles { get; init; } = true;

    /// <summary>Regions of the mask smaller than this fraction of the frame's pixels are specks, not objects.</summary>
    public double MinObjectFraction { get; init; } = 0.004;

    /// <summary>How many pixels around a region its form takes in: a blurred shape's rim lies outside the mask.</summary>
    public int RimPixels { get; init; } = 2;

    /// <summary>
    /// RGB distance from the background within which a background pixel counts as clean: a decoder's faint tint passes,
    /// a speck, a ghost of the object or a block pattern does not.
    /// </summary>
    public double CleanTolerance { get; init; } = 24;

    /// <summary>Coverage below this counts as none when judging a form, so noise in the rim does not look like shape.</summary>
    public double CoverageFloor { get; init; } = 0.1;

    /// <summary>
    /// Measures <paramref name="clip"/>; <paramref name="palette"/> maps colour names to the colours a caption may name,
    /// <paramref name="backgrounds"/> (optional) the background colours, to name the background.
    /// </summary>
    public ClipMeasurement Measure(VideoClip clip, IReadOnlyDictionary<string, Rgb> palette, IReadOnlyDictionary<string, Rgb>? backgrounds = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(palette);
        if (palette.Count == 0)
        {
            throw new ArgumentException("the palette names no colour", nameof(palette));
        }

        if (backgrounds is { Count: 0 })
        {
            throw new ArgumentException("the backgrounds palette names no colour", nameof(backgrounds));
        }

        var names = palette.Keys.ToArray();
        var colors = names.Select(n => palette[n]).ToArray();
        var background = EstimateBackground(clip);
        var backgroundName = backgrounds?.MinBy(b => b.Value.DistanceSquared(background)).Key;
        var plane = clip.Height * clip.Width;

        // Per frame: the palette index explaining each foreground pixel, -1 for background.
        var masks = new bool[clip.Frames][];
        var labels = new int[clip.Frames][];
        var votes = new long[colors.Length];
        long foreground = 0;
        for (var t = 0; t < clip.Frames; t++)
        {
            var mask = masks[t] = ForegroundMask(clip, t, background);
            var frame = clip.Frame(t);
            var label = labels[t] = new int[plane];
            for (var p = 0; p < plane; p++)
            {
                if (!mask[p])
                {
                    label[p] = -1;
                    continue;
                }

                var c = label[p] = NearestBlend(new Rgb(frame[p * 3], frame[(p * 3) + 1], frame[(p * 3) + 2]), background, colors);
                votes[c]++;
                foreground++;
            }
        }

        var totalPixels = (double)plane * clip.Frames;
        if (foreground == 0)
        {
            return new ClipMeasurement(background, null, 0, 0, null, null, 0, 0, MotionDirection.None, backgroundName, 0, 0, null, 0, CleanShare(clip, masks, background));
        }

        var winner = 0;
        for (var c = 1; c < votes.Length; c++)
        {
            if (votes[c] > votes[winner])
            {
                winner = c;
            }
        }

        var first = Centroid(labels[0], clip.Width, winner);
        var last = Centroid(labels[^1], clip.Width, winner);
        double dx = 0, dy = 0;
        if (first is { } a && last is { } b)
        {
            dx = b.X - a.X;
            dy = b.Y - a.Y;
        }

        var (objects, singleObjectShare, shape, shapeShare) = Regions(clip, masks, background, colors[winner]);
        return new ClipMeasurement(
            background,
            names[winner],
            votes[winner] / (double)foreground,
            foreground / totalPixels,
            first,
            last,
            dx,
            dy,
            DirectionOf(dx, dy, MotionThreshold * Math.Min(clip.Height, clip.Width)),
            backgroundName,
            objects,
            singleObjectShare,
            shape,
            shapeShare,
            CleanShare(clip, masks, background));
    }

    /// <summary>The per-channel median of the pixels on the border of every frame.</summary>
    public static Rgb EstimateBackground(VideoClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var histograms = new int[3, 256];
        long count = 0;
        for (var t = 0; t < clip.Frames; t++)
        {
            var frame = clip.Frame(t);
            for (var y = 0; y < clip.Height; y++)
            {
                var edgeRow = y == 0 || y == clip.Height - 1;
                var step = edgeRow || clip.Width == 1 ? 1 : clip.Width - 1;
                for (var x = 0; x < clip.Width; x += step)
                {
                    var i = ((y * clip.Width) + x) * 3;
                    histograms[0, frame[i]]++;
                    histograms[1, frame[i + 1]]++;
                    histograms[2, frame[i + 2]]++;
                    count++;
                }
            }
        }

        return new Rgb(Median(histograms, 0, count), Median(histograms, 1, count), Median(histograms, 2, count));
    }

    /// <summary>Which pixels of frame <paramref name="frame"/> (row-major, H × W) are far from <paramref name="background"/>.</summary>
    public bool[] ForegroundMask(VideoClip clip, int frame, Rgb background)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var pixels = clip.Frame(frame);
        var plane = clip.Height * clip.Width;
        var mask = new bool[plane];
        var threshold = ForegroundThreshold * ForegroundThreshold;
        for (var p = 0; p < plane; p++)
        {
            mask[p] = new Rgb(pixels[p * 3], pixels[(p * 3) + 1], pixels[(p * 3) + 2]).DistanceSquared(background) > threshold;
        }

        return RemoveSpeckles ? MajorityFilter(mask, clip.Height, clip.Width) : mask;
    }

    /// <summary>Left/right when the horizontal move dominates, up/down otherwise; None when the larger component is below <paramref name="threshold"/> pixels.</summary>
    public static MotionDirection DirectionOf(double dx, double dy, double threshold)
    {
        if (Math.Abs(dx) >= Math.Abs(dy))
        {
            return Math.Abs(dx) < threshold ? MotionDirection.None : dx > 0 ? MotionDirection.Right : MotionDirection.Left;
        }

        return Math.Abs(dy) < threshold ? MotionDirection.None : dy > 0 ? MotionDirection.Down : MotionDirection.Up;
    }

    /// <summary>
    /// The colour whose blend line from the background (bg + α(c − bg), α in [0, 1]) passes nearest to the pixel:
    /// a blurred edge pixel between a yellow shape and a navy background lies on the yellow line even when its
    /// plain nearest palette colour is green.
    /// </summary>
    private static int NearestBlend(Rgb pixel, Rgb background, Rgb[] colors)
    {
        var best = 0;
        var bestDistance = double.MaxValue;
        for (var c = 0; c < colors.Length; c++)
        {
            var distance = Blend(pixel, background, colors[c]).Distance;
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = c;
            }
        }

        return best;
    }

    /// <summary>The point bg + α(c − bg), α in [0, 1], nearest to the pixel: α is how much of the colour the pixel holds, Distance the squared distance left.</summary>
    private static (double Alpha, double Distance) Blend(Rgb pixel, Rgb background, Rgb color)
    {
        int pr = pixel.R - background.R, pg = pixel.G - background.G, pb = pixel.B - background.B;
        int dr = color.R - background.R, dg = color.G - background.G, db = color.B - background.B;
        var length = (double)((dr * dr) + (dg * dg) + (db * db));
        var alpha = length == 0 ? 0 : Math.Clamp(((pr * dr) + (pg * dg) + (pb * db)) / length, 0, 1);
        double er = pr - (alpha * dr), eg = pg - (alpha * dg), eb = pb - (alpha * db);
        return (alpha, (er * er) + (eg * eg) + (eb * eb));
    }

    /// <summary>
    /// Per frame, the mask's regions (specks dropped) and the largest one's shape, judged on its coverage of
    /// <paramref name="color"/>: the most common region count, the share of frames showing exactly one region, and
    /// the majority shape with the share of frames that voted for it.
    /// </summary>
    private (int Objects, double SingleObjectShare, ShapeKind? Shape, double ShapeShare) Regions(VideoClip clip, bool[][] masks, Rgb background, Rgb color)
    {
        var minArea = MinArea(clip);
        var counts = new int[clip.Frames];
        var shapes = new Dictionary<ShapeKind, int>();
        var coverage = new double[clip.Height * clip.Width];
        for (var t = 0; t < clip.Frames; t++)
        {
            var regions = ForegroundRegions.Find(masks[t], clip.Height, clip.Width, minArea);
            counts[t] = regions.Count;
            if (regions.Count == 0)
            {
                continue;
            }

            var frame = clip.Frame(t);
            for (var p = 0; p < coverage.Length; p++)
            {
                var alpha = Blend(new Rgb(frame[p * 3], frame[(p * 3) + 1], frame[(p * 3) + 2]), background, color).Alpha;
                coverage[p] = Math.Max(0, (alpha - CoverageFloor) / (1 - CoverageFloor));
            }

            var shape = RegionForm.Of(ForegroundRegions.Grow(regions[0], clip.Height, clip.Width, RimPixels), coverage, clip.Width).Shape;
            shapes[shape] = shapes.GetValueOrDefault(shape) + 1;
        }

        var objects = counts.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var single = counts.Count(c => c == 1) / (double)clip.Frames;
        if (shapes.Count == 0)
        {
            return (objects, single, null, 0);
        }

        var majority = shapes.OrderByDescending(s => s.Value).ThenBy(s => s.Key).First();
        return (objects, single, majority.Key, majority.Value / (double)clip.Frames);
    }

    /// <summary>
    /// The share of background pixels within <see cref="CleanTolerance"/> of <paramref name="background"/>, averaged over
    /// frames: every pixel outside the frame's largest region grown by one pixel (its soft edge) is background.
    /// </summary>
    private double CleanShare(VideoClip clip, bool[][] masks, Rgb background)
    {
        var minArea = MinArea(clip);
        var tolerance = CleanTolerance * CleanTolerance;
        var plane = clip.Height * clip.Width;
        double sum = 0;
        for (var t = 0; t < clip.Frames; t++)
        {
            var regions = ForegroundRegions.Find(masks[t], clip.Height, clip.Width, minArea);
            var objectPixels = regions.Count == 0 ? [] : ForegroundRegions.Grow(regions[0], clip.Height, clip.Width, 1).ToHashSet();
            var frame = clip.Frame(t);
            int clean = 0, total = 0;
            for (var p = 0; p < plane; p++)
            {
                if (objectPixels.Contains(p))
                {
                    continue;
                }

                total++;
                clean += new Rgb(frame[p * 3], frame[(p * 3) + 1], frame[(p * 3) + 2]).DistanceSquared(background) <= tolerance ? 1 : 0;
            }

            sum += total == 0 ? 1 : clean / (double)total;
        }

        return sum / clip.Frames;
    }

    /// <summary>The least region, in pixels, that counts as an object in a frame of <paramref name="clip"/>.</summary>
    private int MinArea(VideoClip clip) => Math.Max(1, (int)Math.Ceiling(MinObjectFraction * clip.Height * clip.Width));

    private static (double X, double Y)? Centroid(int[] labels, int width, int label)
    {
        double sumX = 0, sumY = 0;
        long count = 0;
        for (var p = 0; p < labels.Length; p++)
        {
            if (labels[p] == label)
            {
                sumX += p % width;
                sumY += p / width;
                count++;
            }
        }

        return count == 0 ? null : (sumX / count, sumY / count);
    }

    private static bool[] MajorityFilter(bool[] mask, int height, int width)
    {
        var result = new bool[mask.Length];
        for (var p = 0; p < mask.Length; p++)
        {
            result[p] = mask[p] && ForegroundRegions.Neighbourhood(p, height, width).Count(q => mask[q]) >= 5;
        }

        return result;
    }

    private static byte Median(int[,] histograms, int channel, long count)
    {
        long seen = 0;
        for (var v = 0; v < 256; v++)
        {
            seen += histograms[channel, v];
            if (seen * 2 > count)
            {
                return (byte)v;
            }
        }

        return 255;
    }
}
