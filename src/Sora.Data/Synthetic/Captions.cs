using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>The moving-shapes captions: "a red circle moves left on a blue background"; images leave the motion out.</summary>
public static class Captions
{
    public static string Describe(string color, ShapeKind shape, MotionDirection direction, string background)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(color);
        ArgumentException.ThrowIfNullOrWhiteSpace(background);
        var motion = direction == MotionDirection.None ? string.Empty : $" moves {Word(direction)}";
        return $"{Article(color)} {color} {Word(shape)}{motion} on {Article(background)} {background} background";
    }

    public static string Word(ShapeKind shape) => shape.ToString().ToLowerInvariant();

    public static string Word(MotionDirection direction) => direction.ToString().ToLowerInvariant();

    private static string Article(string word) => "aeiou".Contains(char.ToLowerInvariant(word[0]), StringComparison.Ordinal) ? "an" : "a";
}
