using Sora.Data.Synthetic;
using Sora.Data.Tests.Support;
using Sora.Data.Video;

namespace Sora.Data.Tests.Video;

public class RegionFormTests
{
    [Theory]
    [InlineData(ShapeKind.Circle, 0.0, 0.0)]
    [InlineData(ShapeKind.Square, 0.0, 1.0 / 240)]
    [InlineData(ShapeKind.Triangle, -0.021, 0.0)]
    public void A_large_sharp_shape_has_the_forms_theory_gives(ShapeKind shape, double skew, double kurtosis)
    {
        var (coverage, width) = Coverage(shape, size: 40, blur: 0);

        var form = RegionForm.Of(Everything(coverage), coverage, width);

        form.VerticalSkew.Should().BeApproximately(skew, 0.001);
        form.DiagonalKurtosis.Should().BeApproximately(kurtosis, 0.0003);
        form.Shape.Should().Be(shape);
    }

    [Theory]
    [InlineData(ShapeKind.Circle)]
    [InlineData(ShapeKind.Square)]
    [InlineData(ShapeKind.Triangle)]
    public void A_gaussian_blur_leaves_the_form_nearly_unchanged(ShapeKind shape)
    {
        var (sharp, width) = Coverage(shape, size: 20, blur: 0);
        var (blurred, _) = Coverage(shape, size: 20, blur: 2);

        var before = RegionForm.Of(Everything(sharp), sharp, width);
        var after = RegionForm.Of(Everything(blurred), blurred, width);

        after.Area.Should().BeApproximately(before.Area, 0.01 * before.Area);
        after.VerticalSkew.Should().BeApproximately(before.VerticalSkew, 0.001);
        after.DiagonalKurtosis.Should().BeApproximately(before.DiagonalKurtosis, 0.0004);
        after.Shape.Should().Be(shape);
    }

    [Fact]
    public void A_region_without_coverage_has_no_form()
    {
        RegionForm.Of([0, 1], new double[4], 2).Should().Be(new RegionForm(0, 0, 0));
    }

    /// <summary>The coverage (0 to 1) of <paramref name="shape"/>, white on black in a 64×64 frame, blurred by a Gaussian of σ = <paramref name="blur"/> pixels.</summary>
    private static (double[] Coverage, int Width) Coverage(ShapeKind shape, double size, double blur)
    {
        var pixels = VideoClip.Filled(1, 64, 64, new Rgb(0, 0, 0)).Pixels.ToArray();
        ShapeRasterizer.Draw(pixels, 64, 64, shape, new Rgb(255, 255, 255), 12 * ShapeRasterizer.Unit, 12 * ShapeRasterizer.Unit, (long)(size * ShapeRasterizer.Unit));
        var clip = new VideoClip(1, 64, 64, pixels);
        if (blur > 0)
        {
            clip = ClipDegradation.Blur(clip, blur);
        }

        return ([.. Enumerable.Range(0, 64 * 64).Select(p => clip.Pixels[p * 3] / 255.0)], 64);
    }

    private static int[] Everything(double[] coverage) => [.. Enumerable.Range(0, coverage.Length)];
}
