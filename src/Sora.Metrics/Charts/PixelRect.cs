namespace Sora.Metrics.Charts;

/// <summary>A rectangle of whole pixels: [Left, Left + Width) × [Top, Top + Height).</summary>
internal readonly record struct PixelRect(int Left, int Top, int Width, int Height)
{
    public int Right => Left + Width;

    public int Bottom => Top + Height;

    public bool Contains(int x, int y) => x >= Left && x < Right && y >= Top && y < Bottom;
}
