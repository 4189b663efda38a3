using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>
/// What the moving-shapes dataset draws from: colours, backgrounds, shapes, directions, clip lengths, frame sizes,
/// shape size and speed. Restrict a list to pick a subset (see <see cref="SmallCpu"/>); <see cref="Validate"/> says what is wrong.
/// </summary>
public sealed record MovingShapesOptions
{
    /// <summary>Least RGB distance between two foreground colours.</summary>
    public const double MinColorSeparation = 100;

    /// <summary>Least RGB distance between a foreground and a background colour: <see cref="ClipMeasurements"/> must tell them apart under noise and blur.</summary>
    public const double MinBackgroundSeparation = 120;

    /// <summary>The largest <see cref="MaxShapeFraction"/> allowed: a larger shape has too little room to move.</summary>
    public const double LargestShapeFraction = 0.6;

    /// <summary>The full dataset.</summary>
    public static MovingShapesOptions Default { get; } = new();

    /// <summary>For small CPU runs: 32×32 frames, images and 8-frame clips.</summary>
    public static MovingShapesOptions SmallCpu { get; } = new() { Sizes = [new(32, 32)], Lengths = [1, 8] };

    /// <summary>Saturated shape colours, each at least <see cref="MinColorSeparation"/> from the others.</summary>
    public IReadOnlyList<NamedColor> Colors { get; init; } =
    [
        new("red", new Rgb(220, 20, 20)),
        new("green", new Rgb(20, 200, 20)),
        new("blue", new Rgb(30, 60, 230)),
        new("yellow", new Rgb(240, 220, 20)),
        new("magenta", new Rgb(220, 30, 220)),
        new("cyan", new Rgb(20, 210, 220)),
    ];

    /// <summary>Background colours, each at least <see cref="MinBackgroundSeparation"/> from every shape colour.</summary>
    public IReadOnlyList<NamedColor> Backgrounds { get; init; } =
    [
        new("black", new Rgb(0, 0, 0)),
        new("white", new Rgb(255, 255, 255)),
        new("gray", new Rgb(128, 128, 128)),
        new("navy", new Rgb(0, 0, 110)),
    ];

    public IReadOnlyList<ShapeKind> Shapes { get; init; } = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle];

    public IReadOnlyList<MotionDirection> Directions { get; init; } =
        [MotionDirection.Left, MotionDirection.Right, MotionDirection.Up, MotionDirection.Down];

    /// <summary>Clip lengths in frames; 1 makes a still image (no motion in its caption).</summary>
    public IReadOnlyList<int> Lengths { get; init; } = [1, 8, 16];

    /// <summary>Frame sizes as (height, width).</summary>
    public IReadOnlyList<FrameSize> Sizes { get; init; } = [new(32, 32), new(48, 32), new(32, 48), new(64, 64)];

    /// <summary>Smallest shape (bounding box side) as a fraction of the frame's shorter side.</summary>
    public double MinShapeFraction { get; init; } = 0.2;

    /// <summary>Largest shape (bounding box side) as a fraction of the frame's shorter side.</summary>
    public double MaxShapeFraction { get; init; } = 0.35;

    /// <summary>Slowest speed in pixels per frame (before <see cref="MinTravelFraction"/> and the frame edges adjust it).</summary>
    public double MinSpeed { get; init; } = 1.5;

    /// <summary>Fastest speed in pixels per frame.</summary>
    public double MaxSpeed { get; init; } = 3.0;

    /// <summary>
    /// Least distance a shape travels over a clip, as a fraction of the frame side it moves along: slow speeds are
    /// raised so that short clips still show clear motion. Speeds are also lowered so the shape never leaves the frame.
    /// </summary>
    public double MinTravelFraction { get; init; } = 0.25;

    /// <summary>Frames per second written into GIF/MP4 samples.</summary>
    public double Fps { get; init; } = 8;

    /// <summary>Shape colour names to RGB, in <see cref="Colors"/> order: the palette <see cref="ClipMeasurements.Measure"/> takes.</summary>
    public IReadOnlyDictionary<string, Rgb> ForegroundPalette => Colors.ToDictionary(c => c.Name, c => c.Rgb);

    /// <summary>Background names to RGB, in <see cref="Backgrounds"/> order: the backgrounds palette <see cref="ClipMeasurements.Measure"/> takes.</summary>
    public IReadOnlyDictionary<string, Rgb> BackgroundPalette => Backgrounds.ToDictionary(c => c.Name, c => c.Rgb);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option and the allowed values.</summary>
    public void Validate()
    {
        RequireItems(Colors, nameof(Colors));
        RequireItems(Backgrounds, nameof(Backgrounds));
        RequireItems(Shapes, nameof(Shapes));
        RequireItems(Directions, nameof(Directions));
        RequireItems(Lengths, nameof(Lengths));
        RequireItems(Sizes, nameof(Sizes));

        RequireNames(Colors, nameof(Colors));
        RequireNames(Backgrounds, nameof(Backgrounds));
        foreach (var shape in Shapes)
        {
            Require(Enum.IsDefined(shape), nameof(Shapes), $"{shape} is not a shape; allowed: {string.Join(", ", Enum.GetNames<ShapeKind>())}");
        }

        RequireDistinct(Shapes, nameof(Shapes));
        foreach (var direction in Directions)
        {
            Require(direction is MotionDirection.Left or MotionDirection.Right or MotionDirection.Up or MotionDirection.Down, nameof(Directions), $"{direction} is not a direction a shape can move in; allowed: Left, Right, Up, Down");
        }

        RequireDistinct(Directions, nameof(Directions));
        foreach (var length in Lengths)
        {
            Require(length is >= 1 and <= 1024, nameof(Lengths), $"{length} frames is outside the allowed 1..1024");
        }

        RequireDistinct(Lengths, nameof(Lengths));
        foreach (var size in Sizes)
        {
            Require(size.Height is >= 16 and <= 1024 && size.Width is >= 16 and <= 1024, nameof(Sizes), $"{size} is outside the allowed 16..1024 pixels per side");
        }

        RequireDistinct(Sizes, nameof(Sizes));
        Require(double.IsFinite(MinShapeFraction) && MinShapeFraction > 0, nameof(MinShapeFraction), $"{MinShapeFraction} must be above 0");
        Require(double.IsFinite(MaxShapeFraction) && MaxShapeFraction is >= 0 and <= LargestShapeFraction, nameof(MaxShapeFraction), $"{MaxShapeFraction} must be at most {LargestShapeFraction}, so a shape has room to move");
        Require(MinShapeFraction <= MaxShapeFraction, nameof(MinShapeFraction), $"{MinShapeFraction} is above {nameof(MaxShapeFraction)} ({MaxShapeFraction})");
        var smallestSide = Sizes.Min(s => Math.Min(s.Height, s.Width));
        Require(MinShapeFraction * smallestSide >= 3, nameof(MinShapeFraction), $"{MinShapeFraction} of the smallest frame side ({smallestSide} px) is below 3 px: such a shape cannot be seen");
        Require(double.IsFinite(MinSpeed) && MinSpeed > 0, nameof(MinSpeed), $"{MinSpeed} must be above 0 pixels per frame");
        Require(double.IsFinite(MaxSpeed) && MaxSpeed >= MinSpeed, nameof(MaxSpeed), $"{MaxSpeed} must be finite and at least {nameof(MinSpeed)} ({MinSpeed})");
        Require(double.IsFinite(MinTravelFraction) && MinTravelFraction >= 0 && MinTravelFraction <= 1 - MaxShapeFraction, nameof(MinTravelFraction), $"{MinTravelFraction} must be in [0, 1 - {nameof(MaxShapeFraction)}] = [0, {1 - MaxShapeFraction}] so the shape stays in the frame");
        Require(double.IsFinite(Fps) && Fps > 0, nameof(Fps), $"{Fps} must be above 0");

        foreach (var (a, i) in Colors.Select((c, i) => (c, i)))
        {
            foreach (var b in Colors.Skip(i + 1))
            {
                Require(a.Rgb.DistanceTo(b.Rgb) >= MinColorSeparation, nameof(Colors), $"'{a.Name}' {a.Rgb} and '{b.Name}' {b.Rgb} are {a.Rgb.DistanceTo(b.Rgb):F0} apart; shape colours must be at least {MinColorSeparation} apart");
            }

            foreach (var b in Backgrounds)
            {
                Require(a.Rgb.DistanceTo(b.Rgb) >= MinBackgroundSeparation, nameof(Backgrounds), $"'{b.Name}' {b.Rgb} is {a.Rgb.DistanceTo(b.Rgb):F0} from the shape colour '{a.Name}' {a.Rgb}; backgrounds must be at least {MinBackgroundSeparation} from every shape colour");
            }
        }
    }

    private static void Require(bool condition, string option, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"{nameof(MovingShapesOptions)}.{option}: {problem}", option);
        }
    }

    private static void RequireItems<T>(IReadOnlyList<T>? items, string option) =>
        Require(items is { Count: > 0 }, option, "needs at least one value");

    private static void RequireDistinct<T>(IReadOnlyList<T> items, string option)
    {
        var duplicate = items.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            Require(false, option, $"{duplicate.Key} appears more than once");
        }
    }

    private static void RequireNames(IReadOnlyList<NamedColor> colors, string option)
    {
        foreach (var color in colors)
        {
            Require(color is not null && !string.IsNullOrWhiteSpace(color.Name) && color.Name == color.Name.Trim(), option, $"colour names must be non-empty words without surrounding spaces, got '{color?.Name}'");
        }

        RequireDistinct(colors.Select(c => c.Name).ToArray(), option);
    }
}
