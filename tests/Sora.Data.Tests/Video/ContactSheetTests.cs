using Sora.Data.Tests.Support;
using Sora.Data.Video;

namespace Sora.Data.Tests.Video;

public class ContactSheetTests
{
    private static VideoClip Frames(int count, int height, int width) =>
        new(count, height, width, Enumerable.Range(0, count).SelectMany(t => Enumerable.Repeat((byte)(t * 20), height * width * 3)).ToArray());

    [Fact]
    public void Frames_sit_side_by_side_with_gaps()
    {
        var sheet = ContactSheet.Compose(Frames(3, 4, 5), gap: 2);

        sheet.Frames.Should().Be(1);
        (sheet.Height, sheet.Width).Should().Be((4, (3 * 5) + (2 * 2)));
        sheet[0, 0, 0].Should().Be(new Rgb(0, 0, 0));
        sheet[0, 3, 5].Should().Be(ContactSheet.GapColor);
        sheet[0, 3, 7].Should().Be(new Rgb(20, 20, 20));
        sheet[0, 0, 18].Should().Be(new Rgb(40, 40, 40));
    }

    [Fact]
    public void Columns_wrap_frames_into_rows_and_leave_empty_cells_gap_coloured()
    {
        var sheet = ContactSheet.Compose(Frames(5, 2, 2), columns: 2, gap: 1);

        (sheet.Height, sheet.Width).Should().Be(((3 * 2) + 2, (2 * 2) + 1));
        sheet[0, 3, 3].Should().Be(new Rgb(60, 60, 60), "frame 3 is row 1, column 1");
        sheet[0, 6, 0].Should().Be(new Rgb(80, 80, 80), "frame 4 starts row 2");
        sheet[0, 6, 3].Should().Be(ContactSheet.GapColor, "there is no sixth frame");
    }

    [Fact]
    public void An_image_is_its_own_sheet()
    {
        var image = Frames(1, 3, 3);
        ContactSheet.Compose(image).Should().BeSameAs(image);
    }

    [Fact]
    public void The_PNG_holds_the_sheet_upscaled()
    {
        using var temp = new TempDirectory();
        var clip = Frames(4, 6, 5);
        var path = temp.File("sheet.png");

        ContactSheet.WritePng(clip, path, columns: 2, upscale: 3);

        var expected = ContactSheet.Compose(clip, columns: 2).Upscale(3);
        var decoded = Ffmpeg.Default.DecodeRaw(path, expected.Width, expected.Height);
        decoded.ContentEquals(expected).Should().BeTrue();
    }
}
