using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Data.Tests.Synthetic;

public class MovingShapesOptionsTests
{
    [Fact]
    public void The_presets_are_valid()
    {
        MovingShapesOptions.Default.Validate();
        MovingShapesOptions.SmallCpu.Validate();
        MovingShapesOptions.SmallCpu.Sizes.Should().Equal(new FrameSize(32, 32));
        MovingShapesOptions.SmallCpu.Lengths.Should().Equal(1, 8);
    }

    [Fact]
    public void The_default_palette_keeps_every_colour_far_from_the_others_and_from_every_background()
    {
        var options = MovingShapesOptions.Default;
        options.Colors.Select(c => c.Name).Should().Equal("red", "green", "blue", "yellow", "magenta", "cyan");
        options.Backgrounds.Select(c => c.Name).Should().Equal("black", "white", "gray", "navy");
        foreach (var color in options.Colors)
        {
            options.Colors.Where(c => c != color).Should().OnlyContain(c => c.Rgb.DistanceTo(color.Rgb) >= MovingShapesOptions.MinColorSeparation);
            options.Backgrounds.Should().OnlyContain(b => b.Rgb.DistanceTo(color.Rgb) >= MovingShapesOptions.MinBackgroundSeparation);
        }

        options.ForegroundPalette.Keys.Should().Equal("red", "green", "blue", "yellow", "magenta", "cyan");
    }

    public static TheoryData<MovingShapesOptions, string> Invalid => new()
    {
        { MovingShapesOptions.Default with { Colors = [] }, "MovingShapesOptions.Colors: needs at least one value" },
        { MovingShapesOptions.Default with { Lengths = [1, 0] }, "MovingShapesOptions.Lengths: 0 frames is outside the allowed 1..1024" },
        { MovingShapesOptions.Default with { Lengths = [8, 8] }, "MovingShapesOptions.Lengths: 8 appears more than once" },
        { MovingShapesOptions.Default with { Sizes = [new(8, 32)] }, "MovingShapesOptions.Sizes: 8x32 (HxW) is outside the allowed 16..1024*" },
        { MovingShapesOptions.Default with { Directions = [MotionDirection.None] }, "MovingShapesOptions.Directions: None is not a direction*allowed: Left, Right, Up, Down" },
        { MovingShapesOptions.Default with { Shapes = [(ShapeKind)9] }, "MovingShapesOptions.Shapes: 9 is not a shape; allowed: Circle, Square, Triangle" },
        { MovingShapesOptions.Default with { MaxShapeFraction = 0.8 }, "MovingShapesOptions.MaxShapeFraction: 0.8 must be at most 0.6*" },
        { MovingShapesOptions.Default with { MinShapeFraction = 0.5 }, "MovingShapesOptions.MinShapeFraction: 0.5 is above MaxShapeFraction (0.35)" },
        { MovingShapesOptions.Default with { MinShapeFraction = 0.05 }, "MovingShapesOptions.MinShapeFraction: 0.05 of the smallest frame side (32 px) is below 3 px*" },
        { MovingShapesOptions.Default with { MinSpeed = 0 }, "MovingShapesOptions.MinSpeed: 0 must be above 0*" },
        { MovingShapesOptions.Default with { MaxSpeed = 1 }, "MovingShapesOptions.MaxSpeed: 1 must be finite and at least MinSpeed (1.5)" },
        { MovingShapesOptions.Default with { MinTravelFraction = 0.9 }, "MovingShapesOptions.MinTravelFraction: 0.9 must be in [0, 1 - MaxShapeFraction]*" },
        { MovingShapesOptions.Default with { Fps = double.NaN }, "MovingShapesOptions.Fps: NaN must be above 0" },
        { MovingShapesOptions.Default with { Colors = [new("red", new Rgb(220, 20, 20)), new("crimson", new Rgb(200, 20, 60))] }, "MovingShapesOptions.Colors: 'red' #dc1414 and 'crimson' #c8143c are 45 apart*" },
        { MovingShapesOptions.Default with { Backgrounds = [new("darkblue", new Rgb(20, 40, 180))] }, "MovingShapesOptions.Backgrounds: 'darkblue' #1428b4 is 55 from the shape colour 'blue'*" },
        { MovingShapesOptions.Default with { Backgrounds = [new(" ", new Rgb(0, 0, 0))] }, "MovingShapesOptions.Backgrounds: colour names must be non-empty words*" },
        { MovingShapesOptions.Default with { Backgrounds = [new("black", new Rgb(0, 0, 0)), new("black", new Rgb(0, 0, 1))] }, "MovingShapesOptions.Backgrounds: black appears more than once" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validation_names_the_option_and_what_is_allowed(MovingShapesOptions options, string message)
    {
        options.Invoking(o => o.Validate()).Should().Throw<ArgumentException>().WithMessage(message + "*");
        ((Action)(() => _ = new MovingShapesGenerator(options, 1))).Should().Throw<ArgumentException>("the generator validates its options");
    }
}
