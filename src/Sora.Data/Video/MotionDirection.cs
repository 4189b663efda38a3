namespace Sora.Data.Video;

/// <summary>Which way something moves in image coordinates (y grows downwards); None for no clear motion.</summary>
public enum MotionDirection
{
    None,
    Left,
    Right,
    Up,
    Down,
}
