using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>A clip's measurement held against the prompt it should show: which of its measurements agree.</summary>
public sealed record PromptCheck(EvalPrompt Prompt, ClipMeasurement Measured)
{
    public bool BackgroundCorrect => Measured.BackgroundName == Prompt.Background;

    public bool ColorCorrect => Measured.Color == Prompt.Color;

    public bool DirectionCorrect => Measured.Direction == Prompt.Direction;

    public bool OneObject => Measured.OneObject;

    public bool ShapeCorrect => Measured.Shape == Prompt.Shape;
}
