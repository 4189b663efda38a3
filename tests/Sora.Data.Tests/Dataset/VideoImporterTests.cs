using System.Diagnostics;
using Sora.Data.Dataset;
using Sora.Data.Tests.Support;
using Sora.Data.Video;

namespace Sora.Data.Tests.Dataset;

public class VideoImporterTests
{
    [Fact]
    public void Videos_become_captioned_clips_of_each_length_at_their_own_aspect_ratio()
    {
        using var temp = new TempDirectory();
        var videos = Directory.CreateDirectory(Path.Combine(temp.Path, "videos")).FullName;
        Directory.CreateDirectory(Path.Combine(videos, "sub"));
        MakeVideo(Path.Combine(videos, "a.mp4"), 64, 48, frames: 10);
        File.WriteAllText(Path.Combine(videos, "a.txt"), "\na test pattern drifts\nignored second line");
        MakeVideo(Path.Combine(videos, "sub", "b.mp4"), 32, 32, frames: 9);
        File.WriteAllText(Path.Combine(videos, "sub", "b.txt"), "a square video");

        var output = Path.Combine(temp.Path, "shards");
        using (var writer = new VideoShardWriter(output, new VideoShardWriterOptions()))
        {
            var imported = VideoImporter.Import(videos, writer, new VideoImportOptions { Lengths = [4, 1] });
            imported.Should().Equal(("a.mp4", 2 + 10), ("sub/b.mp4", 2 + 9));
        }

        var records = new VideoShardReader(output).ReadRecords().ToList();
        records.Should().HaveCount(23);
        var second = records.Single(r => r.Id == "a#4f@4");
        (second.Frames, second.Height, second.Width, second.Caption).Should().Be((4, 48, 64, "a test pattern drifts"));
        second.Source.Should().Be("a.mp4#frames=4-8");
        second.Fps.Should().BeApproximately(10, 0.5f);
        second.ToClip().ContentEquals(Ffmpeg.Default.DecodeRaw(Path.Combine(videos, "a.mp4")).Slice(4, 4)).Should().BeTrue("the clip holds exactly frames 4..7");
        records.Where(r => r.Id.StartsWith("sub/b#", StringComparison.Ordinal)).Should().AllSatisfy(r =>
        {
            (r.Height, r.Width, r.Caption).Should().Be((32, 32, "a square video"));
        });
        records.Count(r => r.Frames == 1).Should().Be(19, "length 1 makes every frame an image");
    }

    [Fact]
    public void A_video_without_a_caption_file_is_named()
    {
        using var temp = new TempDirectory();
        MakeVideo(Path.Combine(temp.Path, "lonely.mp4"), 32, 32, frames: 4);
        using var writer = new VideoShardWriter(Path.Combine(temp.Path, "out"), new VideoShardWriterOptions());
        var act = () => VideoImporter.Import(temp.Path, writer, new VideoImportOptions { Lengths = [4] });
        act.Should().Throw<FileNotFoundException>().WithMessage($"*lonely.mp4' has no caption: expected the sidecar file '*lonely.txt'*");
    }

    [Theory]
    [InlineData(640, 360, 64, 64, 36)]
    [InlineData(360, 640, 64, 36, 64)]
    [InlineData(48, 32, 64, 48, 32)]
    public void Scaling_keeps_the_aspect_ratio(int width, int height, int maxSide, int expectedWidth, int expectedHeight)
    {
        VideoImporter.Fit(width, height, maxSide).Should().Be((expectedWidth, expectedHeight));
    }

    private static void MakeVideo(string path, int width, int height, int frames)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-y", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", $"testsrc2=size={width}x{height}:rate=10", "-frames:v", frames.ToString(), "-pix_fmt", "yuv420p", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, error);
    }
}
