namespace Sora.Data.Synthetic;

/// <summary>A frame size as (height, width): (48, 32) is portrait, (32, 48) landscape.</summary>
public readonly record struct FrameSize(int Height, int Width)
{
    public override string ToString() => $"{Height}x{Width} (HxW)";
}
