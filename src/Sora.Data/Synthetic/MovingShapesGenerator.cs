using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>
/// The deterministic "moving shapes" dataset: item <c>index</c> of seed <c>seed</c> is one coloured shape sliding in a
/// straight line over a plain background, the same bytes on any machine (integer PRNG and integer rasterizing).
/// The shape stays wholly inside the frame in every frame.
/// </summary>
public sealed class MovingShapesGenerator
{
    private const int Unit = ShapeRasterizer.Unit;

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
    /// The evaluation prompts: every colour × every direction (24 with the default options), all with the first
    /// shape and the first background of <see cref="Options"/>, ordered by colour then direction.
    /// </summary>
    public IReadOnlyList<EvalPrompt> EvalPrompts()
    {
        var shape = Options.Shapes[0];
        var background = Options.Backgrounds[0].Name;
        return Options.Colors
            .SelectMany(color => Options.Directions.Select(direction =>
                new EvalPrompt(Captions.Describe(color.Name, shape, direction, background), color.Name, direction, shape, background)))
            .ToArray();
    }
}
