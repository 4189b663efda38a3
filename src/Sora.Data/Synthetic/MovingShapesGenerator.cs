using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>
/// The deterministic "moving shapes" dataset: item <c>index</c> of seed <c>seed</c> is one coloured shape sliding in a
/// straight line over a plain background, the same bytes on any machine (integer PRNG and integer rasterizing).
/// The shape stays wholly inside the frame in every frame.
/// </summary>
public sealed class MovingShapesGenerator
{
    /// <summary>How many prompts <see cref="EvalPrompts"/> gives unless told.</summary>
    public const int DefaultEvalPrompts = 72;

    private const int Unit = ShapeRasterizer.Unit;

    // Keeps the prompts' random stream apart from the items' (SplitMix64.ForItem).
    private const ulong EvalPromptStream = 0x45564C50524F4D50UL;

    /// <summary>Validates <paramref name="options"/> (throws <see cref="ArgumentException"/> naming the bad option).</summary>
    public MovingShapesGenerator(MovingShapesOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Seed = seed;
    }

    public MovingShapesOptions Options { get; }

    public ulong Seed { get; }

    /// <summary>Item <paramref name="index"/> (>= 0); each index is drawn independently, so any index can be generated first.</summary>
    public MovingShapesSample Generate(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var random = SplitMix64.ForItem(Seed, index);
        var color = random.Pick(Options.Colors);
        var background = random.Pick(Options.Backgrounds);
        var shape = random.Pick(Options.Shapes);
        var direction = random.Pick(Options.Directions);
        var frames = random.Pick(Options.Lengths);
        var size = random.Pick(Options.Sizes);

        var shorter = Math.Min(size.Height, size.Width);
        var shapeSize = random.NextInclusive(
            (long)Math.Ceiling(Options.MinShapeFraction * shorter * Unit),
            Math.Max((long)Math.Ceiling(Options.MinShapeFraction * shorter * Unit), (long)Math.Floor(Options.MaxShapeFraction * shorter * Unit)));
        var speed = random.NextInclusive(
            (long)Math.Ceiling(Options.MinSpeed * Unit),
            Math.Max((long)Math.Ceiling(Options.MinSpeed * Unit), (long)Math.Floor(Options.MaxSpeed * Unit)));

        var horizontal = direction is MotionDirection.Left or MotionDirection.Right;
        long along = (long)(horizontal ? size.Width : size.Height) * Unit;
        long across = (long)(horizontal ? size.Height : size.Width) * Unit;
        var room = along - shapeSize;
        if (frames == 1)
        {
            direction = MotionDirection.None;
            speed = 0;
        }
        else
        {
            var steps = frames - 1;
            var leastSpeed = ((long)Math.Ceiling(Options.MinTravelFraction * along) + steps - 1) / steps;
            speed = Math.Min(Math.Max(speed, leastSpeed), room / steps);
        }

        var travel = speed * (frames - 1);
        var alongStart = random.NextInclusive(0, room - travel);
        var acrossPosition = random.NextInclusive(0, across - shapeSize);
        var sign = direction is MotionDirection.Right or MotionDirection.Down ? 1 : -1;
        if (sign < 0)
        {
            alongStart += travel;
        }

        var pixels = VideoClip.Filled(frames, size.Height, size.Width, background.Rgb).Pixels.ToArray();
        var frameBytes = size.Height * size.Width * 3;
        for (var t = 0; t < frames; t++)
        {
            var alongPosition = alongStart + (sign * speed * t);
            var (left, top) = horizontal ? (alongPosition, acrossPosition) : (acrossPosition, alongPosition);
            ShapeRasterizer.Draw(pixels.AsSpan(t * frameBytes, frameBytes), size.Height, size.Width, shape, color.Rgb, left, top, shapeSize);
        }

        (double X, double Y) Centre(long alongPosition)
        {
            var (left, top) = horizontal ? (alongPosition, acrossPosition) : (acrossPosition, alongPosition);
            return ((left + (shapeSize / 2.0)) / Unit, (top + (shapeSize / 2.0)) / Unit);
        }

        return new MovingShapesSample(
            index,
            VideoClip.Wrap(frames, size.Height, size.Width, pixels),
            Captions.Describe(color.Name, shape, direction, background.Name),
            color.Name,
            color.Rgb,
            background.Name,
            background.Rgb,
            shape,
            direction,
            ShapeSize: shapeSize / (double)Unit,
            Speed: speed / (double)Unit,
            Start: Centre(alongStart),
            End: Centre(alongStart + (sign * travel)),
            Options.Fps);
    }

    /// <summary>
    /// <paramref name="count"/> evaluation prompts drawn from <see cref="Seed"/> (the same on any machine), each colour,
    /// background, shape and direction of <see cref="Options"/> appearing equally often (within one where
    /// <paramref name="count"/> does not divide evenly), no prompt twice unless the options allow fewer distinct
    /// prompts, ordered by shape, colour, background and direction. The default 72 divides by 6 colours, 4
    /// backgrounds, 3 shapes and 4 directions.
    /// </summary>
    public IReadOnlyList<EvalPrompt> EvalPrompts(int count = DefaultEvalPrompts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var random = new SplitMix64(SplitMix64.Mix(Seed ^ EvalPromptStream));
        var colors = Balanced(Options.Colors.Count, count, ref random);
        var backgrounds = Balanced(Options.Backgrounds.Count, count, ref random);
        var shapes = Balanced(Options.Shapes.Count, count, ref random);
        var directions = Balanced(Options.Directions.Count, count, ref random);
        int[][] columns = [colors, backgrounds, shapes, directions];
        SeparateRepeats(columns, count, ref random);

        return Enumerable.Range(0, count)
            .OrderBy(i => (shapes[i], colors[i], backgrounds[i], directions[i]))
            .Select(i =>
            {
                var (color, background, shape, direction) = (Options.Colors[colors[i]].Name, Options.Backgrounds[backgrounds[i]].Name, Options.Shapes[shapes[i]], Options.Directions[directions[i]]);
                return new EvalPrompt(Captions.Describe(color, shape, direction, background), color, direction, shape, background);
            })
            .ToArray();
    }

    /// <summary><paramref name="count"/> indices below <paramref name="values"/>, each as often as the others (within one), shuffled.</summary>
    private static int[] Balanced(int values, int count, ref SplitMix64 random)
    {
        // Which values get the one extra appearance, when count does not divide evenly, is drawn too.
        var order = Enumerable.Range(0, values).ToArray();
        Shuffle(order, ref random);
        var column = Enumerable.Range(0, count).Select(i => order[i % values]).ToArray();
        Shuffle(column, ref random);
        return column;
    }

    private static void Shuffle(int[] items, ref SplitMix64 random)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = random.NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Swaps one column's values between a repeated prompt and another row while that makes both rows new prompts:
    /// each column keeps its counts. Gives up after a bounded number of tries (when the options allow fewer distinct
    /// prompts than asked for, repeats must stay).
    /// </summary>
    private static void SeparateRepeats(int[][] columns, int count, ref SplitMix64 random)
    {
        (int, int, int, int) Row(int i) => (columns[0][i], columns[1][i], columns[2][i], columns[3][i]);
        for (var attempt = 0; attempt < 100 * count; attempt++)
        {
            var rows = Enumerable.Range(0, count).Select(Row).ToArray();
            var repeated = Enumerable.Range(0, count).FirstOrDefault(i => Array.IndexOf(rows, rows[i]) != i, -1);
            if (repeated < 0)
            {
                return;
            }

            var other = random.NextBelow(count);
            var column = columns[random.NextBelow(columns.Length)];
            (column[repeated], column[other]) = (column[other], column[repeated]);
            var (a, b) = (Row(repeated), Row(other));
            var unique = a != b && Enumerable.Range(0, count).All(i => i == repeated || i == other || (rows[i] != a && rows[i] != b));
            if (!unique)
            {
                (column[repeated], column[other]) = (column[other], column[repeated]);
            }
        }
    }
}
