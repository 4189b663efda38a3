namespace Sora.Metrics.Charts;

/// <summary>An RGB raster to draw charts on: pixels, rectangles, lines and <see cref="BitmapFont"/> text, all clipped to <see cref="Clip"/>.</summary>
internal sealed class RgbCanvas
{
    public RgbCanvas(int width, int height, ChartColor background)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
        Clip = new PixelRect(0, 0, width, height);
        FillRect(Clip, background);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>(H, W, 3) bytes, rows top to bottom.</summary>
    public byte[] Pixels { get; }

    /// <summary>Drawing outside this rectangle is dropped; the whole canvas unless changed.</summary>
    public PixelRect Clip { get; set; }

    public ChartColor this[int x, int y]
    {
        get
        {
            var i = ((y * Width) + x) * 3;
            return new ChartColor(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    public void Set(int x, int y, ChartColor color)
    {
        if (!Clip.Contains(x, y) || x < 0 || y < 0 || x >= Width || y >= Height)
        {
            return;
        }

        var i = ((y * Width) + x) * 3;
        Pixels[i] = color.R;
        Pixels[i + 1] = color.G;
        Pixels[i + 2] = color.B;
    }

    public void FillRect(PixelRect rect, ChartColor color)
    {
        for (var y = rect.Top; y < rect.Bottom; y++)
        {
            for (var x = rect.Left; x < rect.Right; x++)
            {
                Set(x, y, color);
            }
        }
    }

    /// <summary>The outline of <paramref name="rect"/>, one pixel wide, inside it.</summary>
    public void StrokeRect(PixelRect rect, ChartColor color)
    {
        DrawLine(rect.Left, rect.Top, rect.Right - 1, rect.Top, color);
        DrawLine(rect.Left, rect.Bottom - 1, rect.Right - 1, rect.Bottom - 1, color);
        DrawLine(rect.Left, rect.Top, rect.Left, rect.Bottom - 1, color);
        DrawLine(rect.Right - 1, rect.Top, rect.Right - 1, rect.Bottom - 1, color);
    }

    /// <summary>A line from (x0, y0) to (x1, y1), both ends included (Bresenham), <paramref name="thickness"/> pixels wide.</summary>
    public void DrawLine(int x0, int y0, int x1, int y1, ChartColor color, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0);
        int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        var error = dx + dy;
        while (true)
        {
            Dot(x0, y0, color, thickness);
            if (x0 == x1 && y0 == y1)
            {
                return;
            }

            var e2 = 2 * error;
            if (e2 >= dy)
            {
                error += dy;
                x0 += sx;
            }

            if (e2 <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>A square of side <paramref name="size"/> centred (as nearly as an even size allows) on (x, y).</summary>
    public void Dot(int x, int y, ChartColor color, int size)
    {
        var start = -(size - 1) / 2;
        for (var j = 0; j < size; j++)
        {
            for (var i = 0; i < size; i++)
            {
                Set(x + start + i, y + start + j, color);
            }
        }
    }

    /// <summary>Text with its top-left corner at (x, y), each font pixel a <paramref name="scale"/> × <paramref name="scale"/> block.</summary>
    public void DrawText(int x, int y, string text, ChartColor color, int scale = 1)
    {
        foreach (var c in text)
        {
            var glyph = BitmapFont.Glyph(c);
            for (var row = 0; row < BitmapFont.GlyphHeight; row++)
            {
                for (var col = 0; col < BitmapFont.GlyphWidth; col++)
                {
                    if (glyph[(row * BitmapFont.GlyphWidth) + col])
                    {
                        FillRect(new PixelRect(x + (col * scale), y + (row * scale), scale, scale), color);
                    }
                }
            }

            x += BitmapFont.Advance * scale;
        }
    }
}
