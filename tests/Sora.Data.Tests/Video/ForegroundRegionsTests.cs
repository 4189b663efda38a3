using Sora.Data.Video;

namespace Sora.Data.Tests.Video;

public class ForegroundRegionsTests
{
    [Fact]
    public void Regions_touching_at_a_corner_are_one_and_come_largest_first()
    {
        var mask = Mask(6, 6, "##....", "##....", "..#...", "......", "....##", "....##");

        var regions = ForegroundRegions.Find(mask, 6, 6, minArea: 1);

        regions.Select(r => r.Length).Should().Equal(5, 4);
        regions[0].Should().BeEquivalentTo(new[] { 0, 1, 6, 7, 14 });
    }

    [Fact]
    public void Regions_below_the_least_area_are_dropped()
    {
        var mask = Mask(4, 6, "###..#", "###...", "......", "....##");

        ForegroundRegions.Find(mask, 4, 6, minArea: 2).Select(r => r.Length).Should().Equal(6, 2);
        ForegroundRegions.Find(mask, 4, 6, minArea: 3).Select(r => r.Length).Should().Equal(6);
        ForegroundRegions.Find(new bool[24], 4, 6, minArea: 1).Should().BeEmpty();
    }

    [Fact]
    public void A_mask_of_the_wrong_size_is_rejected()
    {
        FluentActions.Invoking(() => ForegroundRegions.Find(new bool[10], 3, 3, 1)).Should().Throw<ArgumentException>().WithMessage("*10 pixels*3x3*");
    }

    [Fact]
    public void Growing_adds_the_surrounding_pixels_inside_the_frame()
    {
        ForegroundRegions.Grow([12], 5, 5, pixels: 0).Should().Equal(12);
        ForegroundRegions.Grow([12], 5, 5, pixels: 1).Should().Equal(6, 7, 8, 11, 12, 13, 16, 17, 18);
        ForegroundRegions.Grow([12], 5, 5, pixels: 2).Should().HaveCount(25);
        ForegroundRegions.Grow([0], 5, 5, pixels: 1).Should().Equal(0, 1, 5, 6);
    }

    private static bool[] Mask(int height, int width, params string[] rows)
    {
        rows.Should().HaveCount(height);
        return [.. rows.SelectMany(r => r.Length == width ? r : throw new ArgumentException(r)).Select(c => c == '#')];
    }
}
