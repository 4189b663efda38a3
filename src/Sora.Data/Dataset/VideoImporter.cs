using Sora.Data.Video;

namespace Sora.Data.Dataset;

/// <summary>
/// <c>sora data import</c>: video files decoded by ffmpeg at their own aspect ratio (optionally scaled so the longer
/// side is at most <see cref="VideoImportOptions.MaxSide"/>), cut into clips of the chosen lengths, each captioned
/// by the video's sidecar file (<c>clip.mp4</c> → <c>clip.txt</c>, its first non-empty line), written as dataset rows.
/// </summary>
public static class VideoImporter
{
    /// <summary>File extensions taken as videos.</summary>
    public static IReadOnlyList<string> VideoExtensions { get; } = [".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif"];

    /// <summary>Imports every video under <paramref name="folder"/> (sorted by path); returns the clips written per video.</summary>
    public static IReadOnlyList<(string Video, int Clips)> Import(string folder, VideoShardWriter writer, VideoImportOptions options, Ffmpeg? ffmpeg = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"video folder '{folder}' does not exist");
        }

        ffmpeg ??= Ffmpeg.Default;
        var videos = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (videos.Count == 0)
        {
            throw new InvalidDataException($"'{folder}' holds no videos ({string.Join(", ", VideoExtensions)})");
        }

        var written = new List<(string, int)>();
        foreach (var video in videos)
        {
            var caption = Caption(video);
            var probe = ffmpeg.Probe(video);
            var (width, height) = Fit(probe.Width, probe.Height, options.MaxSide);
            progress?.Report($"{Path.GetRelativePath(folder, video)}: {probe.Width}x{probe.Height} → {width}x{height}");
            var clip = ffmpeg.DecodeRaw(video, width, height);
            var fps = probe.Duration > TimeSpan.Zero ? clip.Frames / probe.Duration.TotalSeconds : 0;
            var relative = Path.GetRelativePath(folder, video);
            var stem = Path.ChangeExtension(relative, null).Replace(Path.DirectorySeparatorChar, '/');
            var count = 0;
            foreach (var length in options.Lengths)
            {
                for (var start = 0; start + length <= clip.Frames; start += options.Stride ?? length)
                {
                    var id = $"{stem}#{length}f@{start}";
                    writer.Write(VideoSampleRecord.FromClip(clip.Slice(start, length), id, caption, fps, $"{relative}#frames={start}-{start + length}"));
                    count++;
                }
            }

            written.Add((relative, count));
        }

        return written;
    }

    /// <summary>The size keeping the aspect ratio with the longer side at most <paramref name="maxSide"/> (even numbers).</summary>
    public static (int Width, int Height) Fit(int width, int height, int? maxSide)
    {
        if (maxSide is not { } limit || Math.Max(width, height) <= limit)
        {
            return (width, height);
        }

        var scale = (double)limit / Math.Max(width, height);
        static int Even(double value) => Math.Max(2, (int)Math.Round(value / 2) * 2);
        return (Even(width * scale), Even(height * scale));
    }

    private static string Caption(string video)
    {
        var sidecar = Path.ChangeExtension(video, ".txt");
        if (!File.Exists(sidecar))
        {
            throw new FileNotFoundException($"'{video}' has no caption: expected the sidecar file '{sidecar}' (its first non-empty line is the caption)", sidecar);
        }

        return File.ReadLines(sidecar).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
            ?? throw new InvalidDataException($"caption file '{sidecar}' is empty");
    }
}

/// <summary>How <see cref="VideoImporter"/> cuts videos.</summary>
public sealed record VideoImportOptions
{
    /// <summary>Clip lengths in frames; every length cuts its own clips (1 = images).</summary>
    public IReadOnlyList<int> Lengths { get; init; } = [8];

    /// <summary>Frames between clip starts (default: the clip length, no overlap).</summary>
    public int? Stride { get; init; }

    /// <summary>Scale down so the longer side is at most this (null: native size).</summary>
    public int? MaxSide { get; init; }

    public VideoImportOptions Validate()
    {
        if (Lengths.Count == 0 || Lengths.Any(l => l < 1))
        {
            throw new ArgumentException($"--lengths: every clip length must be >= 1 (got {string.Join(", ", Lengths)})");
        }

        if (Stride is < 1)
        {
            throw new ArgumentException($"--stride: must be >= 1 (got {Stride})");
        }

        if (MaxSide is < 2)
        {
            throw new ArgumentException($"--max-side: must be >= 2 (got {MaxSide})");
        }

        return this;
    }
}
