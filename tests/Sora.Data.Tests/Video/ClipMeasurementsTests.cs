using Sora.Data.Synthetic;
using Sora.Data.Tests.Support;
using Sora.Data.Video;

namespace Sora.Data.Tests.Video;

public class ClipMeasurementsTests
{
    private static readonly MovingShapesOptions Options = MovingShapesOptions.Default;
    private static readonly IReadOnlyDictionary<string, Rgb> Palette = Options.ForegroundPalette;
    private static readonly MovingShapesGenerator Generator = new(Options, seed: 99);

    private static IEnumerable<MovingShapesSample> Videos(int count, long from = 0) =>
        Enumerable.Range(0, int.MaxValue).Select(i => Generator.Generate(from + i)).Where(s => s.Frames > 1).Take(count);

    [Fact]
    public void Colour_and_direction_match_the_ground_truth_on_every_generated_video()
    {
        var samples = Videos(240).ToArray();
        var wrong = samples
            .Select(s => (Sample: s, Measured: ClipMeasurements.Default.Measure(s.Clip, Palette)))
            .Where(m => m.Measured.Color != m.Sample.Color || m.Measured.Direction != m.Sample.Direction || m.Measured.Background != m.Sample.BackgroundRgb)
            .Select(m => $"#{m.Sample.Index} '{m.Sample.Caption}' measured {m.Measured}")
            .ToArray();

        samples.Should().HaveCount(240);
        samples.Select(s => s.Frames).Distinct().Should().BeEquivalentTo(new[] { 8, 16 });
        wrong.Should().BeEmpty();
    }

    [Fact]
    public void Images_have_a_colour_and_no_direction()
    {
        var images = Enumerable.Range(0, 400).Select(i => Generator.Generate(i)).Where(s => s.Frames == 1).Take(60).ToArray();
        images.Should().HaveCountGreaterThan(50);
        foreach (var image in images)
        {
            var measured = ClipMeasurements.Default.Measure(image.Clip, Palette);
            measured.Color.Should().Be(image.Color, image.Caption);
            measured.Direction.Should().Be(MotionDirection.None);
            (measured.Dx, measured.Dy).Should().Be((0.0, 0.0));
        }
    }

    [Theory]
    [InlineData("noise", 20.0, 0.0)]
    [InlineData("blur", 0.0, 1.0)]
    [InlineData("blur and noise", 12.0, 0.8)]
    public void Noisy_and_blurred_videos_still_measure_right(string what, double noise, double blur)
    {
        var wrong = new List<string>();
        foreach (var sample in Videos(100, from: 10_000))
        {
            var clip = sample.Clip;
            if (blur > 0)
            {
                clip = ClipDegradation.Blur(clip, blur);
            }

            if (noise > 0)
            {
                clip = ClipDegradation.AddNoise(clip, noise, seed: (int)sample.Index);
            }

            var measured = ClipMeasurements.Default.Measure(clip, Palette);
            if (measured.Color != sample.Color || measured.Direction != sample.Direction)
            {
                wrong.Add($"#{sample.Index} '{sample.Caption}' measured {measured}");
            }
        }

        wrong.Should().BeEmpty($"{what} must not change what the clip shows");
    }

    [Fact]
    public void Every_colour_on_every_background_is_named_right_even_blurred_and_noisy()
    {
        foreach (var color in Options.Colors)
        {
            foreach (var background in Options.Backgrounds)
            {
                var generator = new MovingShapesGenerator(Options with { Colors = [color], Backgrounds = [background], Lengths = [8], MinShapeFraction = 0.2, MaxShapeFraction = 0.2 }, seed: 5);
                for (var i = 0; i < 4; i++)
                {
                    var sample = generator.Generate(i);
                    var clip = ClipDegradation.AddNoise(ClipDegradation.Blur(sample.Clip, 1.0), 15, seed: i);
                    var measured = ClipMeasurements.Default.Measure(clip, Palette);
                    measured.Color.Should().Be(color.Name, $"'{sample.Caption}' measured {measured}");
                    measured.Direction.Should().Be(sample.Direction, $"'{sample.Caption}' measured {measured}");
                }
            }
        }
    }

    [Fact]
    public void The_background_is_the_median_of_the_border()
    {
        var sample = Videos(1).Single();
        ClipMeasurements.EstimateBackground(sample.Clip).Should().Be(sample.BackgroundRgb);

        var noisy = ClipDegradation.AddNoise(VideoClip.Filled(2, 16, 16, new Rgb(100, 150, 200)), 10, seed: 3);
        var estimate = ClipMeasurements.EstimateBackground(noisy);
        estimate.DistanceTo(new Rgb(100, 150, 200)).Should().BeLessThan(5);
    }

    [Fact]
    public void A_plain_clip_has_no_colour_and_no_direction()
    {
        var measured = ClipMeasurements.Default.Measure(VideoClip.Filled(4, 16, 16, new Rgb(128, 128, 128)), Palette);
        measured.Should().BeEquivalentTo(new
        {
            Background = new Rgb(128, 128, 128),
            Color = (string?)null,
            ForegroundFraction = 0.0,
            FirstCentroid = ((double, double)?)null,
            Direction = MotionDirection.None,
        });
    }

    [Fact]
    public void A_shift_below_the_threshold_is_no_motion()
    {
        var still = Square(frames: 2, shift: 1);
        ClipMeasurements.Default.Measure(still, Palette).Should().BeEquivalentTo(new { Color = "green", Dx = 1.0, Dy = 0.0, Direction = MotionDirection.None });

        var moving = Square(frames: 2, shift: 6);
        ClipMeasurements.Default.Measure(moving, Palette).Should().BeEquivalentTo(new { Dx = 6.0, Direction = MotionDirection.Right });
        new ClipMeasurements { MotionThreshold = 0.5 }.Measure(moving, Palette).Direction.Should().Be(MotionDirection.None, "the threshold is a fraction of the frame side");
    }

    [Fact]
    public void Speckles_are_removed_from_the_mask()
    {
        var pixels = VideoClip.Filled(1, 9, 9, new Rgb(0, 0, 0)).Pixels.ToArray();
        pixels[((4 * 9) + 4) * 3] = 255; // one red pixel in the middle
        var clip = new VideoClip(1, 9, 9, pixels);

        ClipMeasurements.Default.ForegroundMask(clip, 0, new Rgb(0, 0, 0)).Should().NotContain(true);
        new ClipMeasurements { RemoveSpeckles = false }.ForegroundMask(clip, 0, new Rgb(0, 0, 0)).Count(m => m).Should().Be(1);
    }

    [Theory]
    [InlineData(5, 1, MotionDirection.Right)]
    [InlineData(-5, 4, MotionDirection.Left)]
    [InlineData(1, 5, MotionDirection.Down)]
    [InlineData(2, -5, MotionDirection.Up)]
    [InlineData(1.9, -1.9, MotionDirection.None)]
    public void The_larger_component_decides_the_direction(double dx, double dy, MotionDirection expected)
    {
        ClipMeasurements.DirectionOf(dx, dy, threshold: 2).Should().Be(expected);
    }

    [Fact]
    public void An_empty_palette_is_rejected()
    {
        ClipMeasurements.Default.Invoking(m => m.Measure(VideoClip.Filled(1, 4, 4, default), new Dictionary<string, Rgb>()))
            .Should().Throw<ArgumentException>().WithMessage("*palette*");
    }

    /// <summary>A 6×6 green square on black in a 24×24 clip, moved right by <paramref name="shift"/> pixels in the last frame.</summary>
    private static VideoClip Square(int frames, int shift)
    {
        var pixels = VideoClip.Filled(frames, 24, 24, new Rgb(0, 0, 0)).Pixels.ToArray();
        for (var t = 0; t < frames; t++)
        {
            var left = t == frames - 1 ? 6 + shift : 6;
            for (var y = 9; y < 15; y++)
            {
                for (var x = left; x < left + 6; x++)
                {
                    pixels[((((t * 24) + y) * 24) + x) * 3 + 1] = 200;
                }
            }
        }

        return new VideoClip(frames, 24, 24, pixels);
    }
}
