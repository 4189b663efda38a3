namespace Sora.Data.Video;

/// <summary>ffmpeg or ffprobe is missing or failed; the message names the file and quotes ffmpeg's last error lines.</summary>
public sealed class FfmpegException : Exception
{
    public FfmpegException()
    {
    }

    public FfmpegException(string message)
        : base(message)
    {
    }

    public FfmpegException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public FfmpegException(string message, string? path, int? exitCode = null, string? stderrTail = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
        ExitCode = exitCode;
        StderrTail = stderrTail;
    }

    /// <summary>The video file the command read or wrote.</summary>
    public string? Path { get; }

    /// <summary>The tool's exit code, when it ran.</summary>
    public int? ExitCode { get; }

    /// <summary>The last lines the tool wrote to stderr.</summary>
    public string? StderrTail { get; }
}
