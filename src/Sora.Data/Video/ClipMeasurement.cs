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
public sealed record ClipMeasurement(
    Rgb Background,
    string? Color,
    double ColorShare,
    double ForegroundFraction,
    (double X, double Y)? FirstCentroid,
    (double X, double Y)? LastCentroid,
    double Dx,
    double Dy,
    MotionDirection Direction);
