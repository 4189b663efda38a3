using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>A caption the evaluation generates a video for, with what the video must show.</summary>
public sealed record EvalPrompt(string Caption, string Color, MotionDirection Direction, ShapeKind Shape, string Background);
