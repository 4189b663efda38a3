using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Data.Tests.Synthetic;

public class CaptionsTests
{
    [Fact]
    public void Videos_say_which_way_the_shape_moves_and_images_do_not()
    {
        Captions.Describe("red", ShapeKind.Circle, MotionDirection.Left, "blue").Should().Be("a red circle moves left on a blue background");
        Captions.Describe("cyan", ShapeKind.Triangle, MotionDirection.Down, "navy").Should().Be("a cyan triangle moves down on a navy background");
        Captions.Describe("red", ShapeKind.Square, MotionDirection.None, "white").Should().Be("a red square on a white background");
    }

    [Fact]
    public void Words_starting_with_a_vowel_take_an()
    {
        Captions.Describe("orange", ShapeKind.Circle, MotionDirection.Up, "ivory").Should().Be("an orange circle moves up on an ivory background");
    }
}
