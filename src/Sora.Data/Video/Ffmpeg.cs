using System.Globalization;
using System.Text.Json;

namespace Sora.Data.Video;

/// <summary>
/// Writes clips as GIF and MP4, probes and decodes video files, with the ffmpeg and ffprobe executables.
/// Raw frames travel through stdin and stdout (rgb24), never through temporary files.
/// </summary>
public sealed class Ffmpeg
{
    /// <summary>ffmpeg and ffprobe found on PATH.</summary>
    public static Ffmpeg Default { get; } = new();

    public Ffmpeg(string ffmpegPath = "ffmpeg", string ffprobePath = "ffprobe")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ffmpegPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(ffprobePath);
        FfmpegPath = ffmpegPath;
        FfprobePath = ffprobePath;
    }

    public string FfmpegPath { get; }

    public string FfprobePath { get; }

    /// <summary>
    /// Writes an endlessly looping GIF with a palette computed from the clip (palettegen/paletteuse).
    /// <paramref name="upscale"/> enlarges each pixel to an upscale × upscale block first.
    /// </summary>
    public void WriteGif(VideoClip clip, string path, double fps, int upscale = 1) =>
        Write(clip, path, fps, upscale, ["-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse", "-loop", "0", "-f", "gif"]);

    /// <summary>
    /// Writes an H.264 MP4 (yuv420p, which needs even sizes: an odd width or height is padded by one black pixel).
    /// <paramref name="upscale"/> enlarges each pixel to an upscale × upscale block first.
    /// </summary>
    public void WriteMp4(VideoClip clip, string path, double fps, int upscale = 1) =>
        Write(clip, path, fps, upscale, [
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-f", "mp4",
        ]);

    /// <summary>Frame count (by decoding), size, codec and duration of the file's first video stream.</summary>
    public VideoProbe Probe(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var json = FfmpegProcess.Run(
            FfprobePath,
            ["-v", "error", "-select_streams", "v:0", "-count_frames",
             "-show_entries", "stream=codec_name,width,height,nb_read_frames,duration:format=duration",
             "-of", "json", path],
            [],
            path);
        return ParseProbe(json, path);
    }

    /// <summary>Every frame of the file, scaled to <paramref name="width"/> × <paramref name="height"/>, as RGB.</summary>
    public VideoClip DecodeRaw(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var raw = FfmpegProcess.Run(
            FfmpegPath,
            ["-nostdin", "-hide_banner", "-loglevel", "error", "-i", path,
             "-vf", $"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
            [],
            path);
        var frameBytes = width * height * 3;
        if (raw.Length == 0 || raw.Length % frameBytes != 0)
        {
            throw new FfmpegException($"ffmpeg decoded {raw.Length} bytes from '{path}', which is not a whole number (>= 1) of {width}x{height} RGB frames", path);
        }

        return VideoClip.Wrap(raw.Length / frameBytes, height, width, raw);
    }

    /// <summary>Every frame of the file at its own size (found with <see cref="Probe"/>), as RGB.</summary>
    public VideoClip DecodeRaw(string path)
    {
        var probe = Probe(path);
        return DecodeRaw(path, probe.Width, probe.Height);
    }

    private void Write(VideoClip clip, string path, double fps, int upscale, IEnumerable<string> outputOptions)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!double.IsFinite(fps) || fps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "frames per second must be a positive number");
        }

        var scaled = clip.Upscale(upscale);
        string[] input =
        [
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{scaled.Width}x{scaled.Height}",
            "-framerate", fps.ToString("R", CultureInfo.InvariantCulture), "-i", "-",
            "-an",
        ];
        FfmpegProcess.Run(FfmpegPath, [.. input, .. outputOptions, path], scaled.Pixels, path);
    }

    private static VideoProbe ParseProbe(byte[] json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (!root.TryGetProperty("streams", out var streams) || streams.GetArrayLength() == 0)
            {
                throw new FfmpegException($"'{path}' has no video stream", path);
            }

            var stream = streams[0];
            var seconds = Number(stream, "duration");
            if (double.IsNaN(seconds) && root.TryGetProperty("format", out var format))
            {
                seconds = Number(format, "duration");
            }

            double width = Number(stream, "width"), height = Number(stream, "height"), frames = Number(stream, "nb_read_frames");
            if (double.IsNaN(width) || double.IsNaN(height))
            {
                throw new FfmpegException($"ffprobe reports no frame size for '{path}'", path);
            }

            return new VideoProbe(
                Frames: double.IsNaN(frames) ? 0 : (int)frames,
                Width: (int)width,
                Height: (int)height,
                Codec: stream.TryGetProperty("codec_name", out var codec) ? codec.GetString() ?? "" : "",
                Duration: double.IsNaN(seconds) ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FfmpegException($"cannot read ffprobe's report on '{path}': {e.Message}", path, innerException: e);
        }
    }

    /// <summary>A field ffprobe writes as a number or as a numeric string; NaN when absent or "N/A".</summary>
    private static double Number(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return double.NaN;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => double.NaN,
        };
    }
}
