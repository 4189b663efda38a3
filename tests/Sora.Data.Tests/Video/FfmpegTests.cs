using Sora.Data.Synthetic;
using Sora.Data.Tests.Support;
using Sora.Data.Video;

namespace Sora.Data.Tests.Video;

public class FfmpegTests
{
    private static readonly MovingShapesGenerator Shapes = new(MovingShapesOptions.Default with { Lengths = [8], Sizes = [new(32, 32)] }, seed: 7);

    [Fact]
    public void A_GIF_has_every_frame_at_the_upscaled_size_and_decodes_to_the_same_picture()
    {
        using var temp = new TempDirectory();
        var clip = Shapes.Generate(0).Clip;
        var path = temp.File("clip.gif");

        Ffmpeg.Default.WriteGif(clip, path, fps: 8, upscale: 2);

        var probe = Ffmpeg.Default.Probe(path);
        probe.Should().BeEquivalentTo(new { Frames = 8, Width = 64, Height = 64, Codec = "gif" });
        probe.Duration.TotalSeconds.Should().BeApproximately(1.0, 0.05);
        var decoded = Ffmpeg.Default.DecodeRaw(path, 32, 32);
        decoded.Frames.Should().Be(8);
        ClipDegradation.MeanAbsoluteError(decoded, clip).Should().BeLessThan(3, "a clip of few colours fits a GIF palette almost exactly");
    }

    [Fact]
    public void An_MP4_round_trips_with_a_small_error()
    {
        using var temp = new TempDirectory();
        var clip = Shapes.Generate(1).Clip;
        var path = temp.File("clip.mp4");

        Ffmpeg.Default.WriteMp4(clip, path, fps: 8);

        Ffmpeg.Default.Probe(path).Should().BeEquivalentTo(new { Frames = 8, Width = 32, Height = 32, Codec = "h264" });
        var decoded = Ffmpeg.Default.DecodeRaw(path);
        decoded.Frames.Should().Be(8);
        ClipDegradation.MeanAbsoluteError(decoded, clip).Should().BeLessThan(6, "H.264 at crf 20 with 4:2:0 chroma is lossy, but not by much");
        ClipMeasurements.Default.Measure(decoded, MovingShapesOptions.Default.ForegroundPalette).Color
            .Should().Be(Shapes.Generate(1).Color, "the decoded video still shows the same shape");
    }

    [Fact]
    public void An_MP4_of_odd_size_is_padded_to_even()
    {
        using var temp = new TempDirectory();
        var clip = VideoClip.Filled(3, 31, 33, new Rgb(10, 200, 30));
        var path = temp.File("odd.mp4");

        Ffmpeg.Default.WriteMp4(clip, path, fps: 12.5);

        Ffmpeg.Default.Probe(path).Should().BeEquivalentTo(new { Frames = 3, Width = 34, Height = 32 });
        var decoded = Ffmpeg.Default.DecodeRaw(path);
        decoded[0, 15, 16].DistanceTo(new Rgb(10, 200, 30)).Should().BeLessThan(12);
    }

    [Fact]
    public void Large_clips_stream_through_the_pipes_without_deadlock()
    {
        using var temp = new TempDirectory();
        var clip = ClipDegradation.AddNoise(VideoClip.Filled(40, 96, 128, new Rgb(128, 128, 128)), 40, seed: 1); // 1.5 MB raw, noisy so stderr/stdout both carry data
        var path = temp.File("large.mp4");

        Ffmpeg.Default.WriteMp4(clip, path, fps: 24);
        var decoded = Ffmpeg.Default.DecodeRaw(path, 128, 96);

        decoded.Frames.Should().Be(40);
        (decoded.Height, decoded.Width).Should().Be((96, 128));
    }

    [Fact]
    public void A_missing_ffmpeg_says_to_run_the_bootstrap()
    {
        using var temp = new TempDirectory();
        var missing = new Ffmpeg("/nonexistent/bin/ffmpeg", "/nonexistent/bin/ffprobe");
        var path = temp.File("clip.gif");

        missing.Invoking(f => f.WriteGif(VideoClip.Filled(1, 4, 4, default), path, 8))
            .Should().Throw<FfmpegException>()
            .Where(e => e.Message.Contains("./scripts/bootstrap.sh", StringComparison.Ordinal) && e.Message.Contains(path, StringComparison.Ordinal) && e.Path == path);
        missing.Invoking(f => f.Probe(path)).Should().Throw<FfmpegException>().WithMessage("*/nonexistent/bin/ffprobe*bootstrap.sh*");
    }

    [Fact]
    public void A_bad_path_names_the_file_and_quotes_ffmpeg()
    {
        var missingFile = Path.Combine(Path.GetTempPath(), $"sora-missing-{Guid.NewGuid():N}.mp4");
        Ffmpeg.Default.Invoking(f => f.Probe(missingFile))
            .Should().Throw<FfmpegException>()
            .Where(e => e.Message.Contains(missingFile, StringComparison.Ordinal) && e.Message.Contains("No such file", StringComparison.Ordinal) && e.ExitCode != 0);
        Ffmpeg.Default.Invoking(f => f.DecodeRaw(missingFile, 8, 8)).Should().Throw<FfmpegException>().WithMessage($"*{missingFile}*No such file*");

        const string unwritable = "/nonexistent-dir/clip.mp4";
        Ffmpeg.Default.Invoking(f => f.WriteMp4(VideoClip.Filled(2, 8, 8, default), unwritable, 8))
            .Should().Throw<FfmpegException>().WithMessage($"ffmpeg failed on '{unwritable}'*No such file*");
    }

    [Fact]
    public void A_file_that_is_not_a_video_is_a_clear_error()
    {
        using var temp = new TempDirectory();
        var path = temp.File("not-a-video.mp4");
        File.WriteAllText(path, "hello");
        Ffmpeg.Default.Invoking(f => f.Probe(path)).Should().Throw<FfmpegException>().WithMessage($"*{path}*");
    }

    [Fact]
    public void Bad_arguments_are_rejected_before_ffmpeg_runs()
    {
        var clip = VideoClip.Filled(1, 2, 2, default);
        Ffmpeg.Default.Invoking(f => f.WriteGif(clip, "x.gif", 0)).Should().Throw<ArgumentOutOfRangeException>();
        Ffmpeg.Default.Invoking(f => f.WriteGif(clip, "x.gif", double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        Ffmpeg.Default.Invoking(f => f.WriteMp4(clip, "x.mp4", 8, upscale: 0)).Should().Throw<ArgumentOutOfRangeException>();
        Ffmpeg.Default.Invoking(f => f.DecodeRaw("x.mp4", 0, 4)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Error_messages_quote_only_the_last_stderr_lines()
    {
        var text = string.Join("\n", Enumerable.Range(1, 40).Select(i => $"line {i}")) + "\n\n";
        var tail = FfmpegProcess.LastLines(text, 3);
        tail.Should().Be(string.Join(Environment.NewLine, "line 38", "line 39", "line 40"));
    }
}
