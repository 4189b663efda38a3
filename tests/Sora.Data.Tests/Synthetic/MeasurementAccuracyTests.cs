using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Data.Tests.Synthetic;

public class MeasurementAccuracyTests
{
    private static readonly EvalPrompt Prompt = new("a red square moves left on a navy background", "red", MotionDirection.Left, ShapeKind.Square, "navy");

    [Fact]
    public void Each_accuracy_is_the_share_of_checks_whose_measurement_agrees_and_clean_background_the_mean_share()
    {
        var right = Measured("navy", "red", MotionDirection.Left, singleObjectShare: 1, ShapeKind.Square, clean: 1);
        var wrong = Measured("black", "blue", MotionDirection.Up, singleObjectShare: 0.5, ShapeKind.Circle, clean: 0.5);
        var mixed = Measured("navy", "blue", MotionDirection.Left, singleObjectShare: 0.75, null, clean: 0.9);
        PromptCheck[] checks = [new(Prompt, right), new(Prompt, wrong), new(Prompt, mixed), new(Prompt, right)];

        MeasurementAccuracy.Of(checks).Should().Be(new MeasurementAccuracy(Background: 0.75, Color: 0.5, Direction: 0.75, OneObject: 0.75, Shape: 0.5, CleanBackground: 0.85));
        MeasurementAccuracy.Of([]).Should().Be(new MeasurementAccuracy(0, 0, 0, 0, 0, 0));
    }

    [Fact]
    public void The_accuracies_are_named_in_the_reports_order()
    {
        new MeasurementAccuracy(0.1, 0.2, 0.3, 0.4, 0.5, 0.6).Named().Should().Equal(("colour", 0.2), ("direction", 0.3), ("one object", 0.4), ("shape", 0.5), ("background", 0.1), ("clean background", 0.6));
    }

    private static ClipMeasurement Measured(string background, string color, MotionDirection direction, double singleObjectShare, ShapeKind? shape, double clean) =>
        new(default, color, 1, 0.1, null, null, 0, 0, direction, background, 1, singleObjectShare, shape, 1, clean);
}
