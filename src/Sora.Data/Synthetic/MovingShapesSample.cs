using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>One item of the moving-shapes dataset: the clip, its caption, and the ground truth it was drawn from.</summary>
/// <param name="Index">The item's index in the dataset.</param>
/// <param name="Clip">The video, (T, H, W, 3) RGB bytes.</param>
/// <param name="Caption">"a red circle moves left on a navy background", or without "moves ..." for images.</param>
/// <param name="Color">The shape colour's name.</param>
/// <param name="ColorRgb">The shape colour.</param>
/// <param name="Background">The background colour's name.</param>
/// <param name="BackgroundRgb">The background colour.</param>
/// <param name="Shape">The shape drawn.</param>
/// <param name="Direction">Which way the shape moves; None for images (one frame).</param>
/// <param name="ShapeSize">Side of the shape's bounding box, in pixels.</param>
/// <param name="Speed">Pixels per frame actually moved (0 for images).</param>
/// <param name="Start">Centre of the bounding box (x, y) in the first frame, in pixels.</param>
/// <param name="End">Centre of the bounding box (x, y) in the last frame, in pixels.</param>
/// <param name="Fps">Frames per second to play the clip at.</param>
public sealed record MovingShapesSample(
    long Index,
    VideoClip Clip,
    string Caption,
    string Color,
    Rgb ColorRgb,
    string Background,
    Rgb BackgroundRgb,
    ShapeKind Shape,
    MotionDirection Direction,
    double ShapeSize,
    double Speed,
    (double X, double Y) Start,
    (double X, double Y) End,
    double Fps)
{
    public int Frames => Clip.Frames;

    public int Height => Clip.Height;

    public int Width => Clip.Width;

    /// <summary>What the clip shows, as the evaluation states what a generated video must show.</summary>
    public EvalPrompt Prompt => new(Caption, Color, Direction, Shape, Background);
}
