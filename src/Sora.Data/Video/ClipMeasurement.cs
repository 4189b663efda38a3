using Sora.Data.Synthetic;

namespace Sora.Data.Video;

/// <summary>What <see cref="ClipMeasurements.Measure"/> found in a clip.</summary>
/// <param name="Background">Per-channel median of the border pixels of all frames.</param>
/// <param name="Color">The palette name that explains most foreground pixels; null when there is no foreground.</param>
/// <param name="ColorShare">The fraction of foreground pixels (all frames) that <paramref name="Color"/> explains.</param>
/// <param name="ForegroundFraction">The fraction of all pixels (all frames) that are foreground.</param>
/// <param name="FirstCentroid">Centre of mass (x, y), in pixels, of the <paramref name="Color"/> pixels of the first frame; null when it has none.</param>
/// <param name="LastCentroid">The same for the last frame.</param>
/// <param name="Dx">Last minus first centroid x, in pixels (positive: right); 0 when either centroid is missing.</param>
/// <param name="Dy">Last minus first centroid y, in pixels (positive: down); 0 when either centroid is missing.</param>
/// <param name="Direction">The larger of (Dx, Dy) as a direction; None below the motion threshold or without foreground.</param>
/// <param name="BackgroundName">The backgrounds palette's name nearest to <paramref name="Background"/>; null when no backgrounds palette was given.</param>
/// <param name="Objects">The most common number of separate foreground regions in a frame (specks ignored); 0 without foreground.</param>
/// <param name="SingleObjectShare">The fraction of frames that show exactly one region.</param>
/// <param name="Shape">The shape most frames' largest region has; null without foreground.</param>
/// <param name="ShapeShare">The fraction of frames whose largest region has <paramref name="Shape"/>.</param>
/// <param name="CleanBackground">
/// The share of background pixels (outside the largest region grown by one pixel) within the clean tolerance of
/// <paramref name="Background"/>, averaged over frames: 1 for a plain background, lower with specks, ghosts or blocks.
/// </param>
public sealed record ClipMeasurement(
    Rgb Background,
    string? Color,
    double ColorShare,
    double ForegroundFraction,
    (double X, double Y)? FirstCentroid,
    (double X, double Y)? LastCentroid,
    double Dx,
    double Dy,
    MotionDirection Direction,
    string? BackgroundName,
    int Objects,
    double SingleObjectShare,
    ShapeKind? Shape,
    double ShapeShare,
    double CleanBackground)
{
    /// <summary>One object: a single region in more than half of the frames.</summary>
    public bool OneObject => SingleObjectShare > 0.5;
}
