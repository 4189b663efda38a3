using Sora.Data.Tests.Support;
using Sora.Data.Video;
using Sora.Imaging;
using Sora.Tools;

namespace Sora.Data.Tests.Imaging;

public class PngEncoderTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 23)]
    [InlineData(64, 64)]
    public void Ffmpeg_decodes_our_PNG_to_exactly_the_same_pixels(int width, int height)
    {
        using var temp = new TempDirectory();
        var random = new Random(width * 1000 + height);
        var rgb = new byte[width * height * 3];
        random.NextBytes(rgb);
        rgb.AsSpan(0, Math.Min(rgb.Length, 30)).Fill(200); // a flat run, which the Sub filter turns into zeros

        var path = temp.File("image.png");
        PngEncoder.WriteFile(path, width, height, rgb);

        var probe = Ffmpeg.Default.Probe(path);
        probe.Codec.Should().Be("png");
        (probe.Width, probe.Height).Should().Be((width, height));
        var decoded = Ffmpeg.Default.DecodeRaw(path, width, height);
        decoded.Frames.Should().Be(1);
        decoded.Pixels.ToArray().Should().Equal(rgb);
    }

    [Fact]
    public void Every_chunk_carries_the_CRC_32_that_ffmpeg_checks_and_a_wrong_one_is_refused()
    {
        using var temp = new TempDirectory();
        var rgb = new byte[37 * 23 * 3];
        new Random(5).NextBytes(rgb);
        var png = PngEncoder.Encode(37, 23, rgb);
        png[^4..].Should().Equal([0xAE, 0x42, 0x60, 0x82], "every PNG ends with the IEND chunk's CRC-32");

        var good = temp.File("good.png");
        File.WriteAllBytes(good, png);
        DecodeCheckingCrcs(good).ExitCode.Should().Be(0);

        // The IHDR chunk's CRC (bytes 29-32) off by one bit: ffmpeg's check must catch it, or the test above proves nothing.
        png[32] ^= 1;
        var bad = temp.File("bad.png");
        File.WriteAllBytes(bad, png);
        var refused = DecodeCheckingCrcs(bad);
        refused.ExitCode.Should().NotBe(0, refused.Output);
    }

    [Fact]
    public void The_file_starts_with_the_signature_and_a_correct_header()
    {
        var png = PngEncoder.Encode(3, 2, new byte[18]);
        png[..8].Should().Equal(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
        png[12..16].Should().Equal("IHDR"u8.ToArray());
        png[16..24].Should().Equal(0, 0, 0, 3, 0, 0, 0, 2);
        png[24..29].Should().Equal(8, 2, 0, 0, 0);
        png[^8..^4].Should().Equal("IEND"u8.ToArray());
    }

    [Fact]
    public void Wrong_sizes_and_unwritable_paths_are_clear_errors()
    {
        ((Action)(() => PngEncoder.Encode(2, 2, new byte[11]))).Should().Throw<ArgumentException>().WithMessage("*2x2 RGB image needs 12 bytes, got 11*");
        ((Action)(() => PngEncoder.Encode(0, 2, []))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => PngEncoder.WriteFile("/nonexistent-dir/x.png", 1, 1, new byte[3]))).Should().Throw<IOException>().WithMessage("*'/nonexistent-dir/x.png'*");
    }

    private static ToolResult DecodeCheckingCrcs(string path) =>
        ToolProcess.Run("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-err_detect", "crccheck+explode", "-i", path, "-f", "null", "-"], timeout: TimeSpan.FromMinutes(1));
}
