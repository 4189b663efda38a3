namespace Sora.Data.Dataset;

/// <summary>A clip's size in frames × height × width.</summary>
public readonly record struct VideoShape(int Frames, int Height, int Width)
{
    public override string ToString() => $"{Frames}×{Height}×{Width}";
}
