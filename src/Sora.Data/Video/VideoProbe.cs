namespace Sora.Data.Video;

/// <summary>What ffprobe reports about a file's first video stream.</summary>
/// <param name="Frames">Frames counted by decoding the stream (ffprobe -count_frames), not the container's claim.</param>
/// <param name="Width">Frame width in pixels.</param>
/// <param name="Height">Frame height in pixels.</param>
/// <param name="Codec">ffmpeg's codec name, e.g. "h264", "gif", "png".</param>
/// <param name="Duration">The stream's duration, or the container's when the stream has none; zero when neither is known.</param>
public sealed record VideoProbe(int Frames, int Width, int Height, string Codec, TimeSpan Duration);
