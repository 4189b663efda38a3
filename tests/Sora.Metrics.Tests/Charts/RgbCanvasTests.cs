using Sora.Metrics.Charts;

namespace Sora.Metrics.Tests.Charts;

public class RgbCanvasTests
{
    private static readonly ChartColor Red = new(255, 0, 0);

    [Fact]
    public void Lines_include_both_ends_and_are_continuous()
    {
        var canvas = new RgbCanvas(20, 20, ChartColor.White);
        canvas.DrawLine(2, 3, 17, 11, Red);

        canvas[2, 3].Should().Be(Red);
        canvas[17, 11].Should().Be(Red);
        for (var x = 2; x <= 17; x++)
        {
            Enumerable.Range(0, 20).Count(y => canvas[x, y] == Red).Should().BeGreaterThanOrEqualTo(1, $"column {x} is crossed");
        }
    }

    [Fact]
    public void Drawing_outside_the_clip_is_dropped()
    {
        var canvas = new RgbCanvas(10, 10, ChartColor.White) { Clip = new PixelRect(2, 2, 5, 5) };
        canvas.DrawLine(-100, 4, 100, 4, Red, thickness: 3);
        canvas.Dot(50, 50, Red, 4);

        Enumerable.Range(0, 10).Where(x => canvas[x, 4] == Red).Should().Equal(2, 3, 4, 5, 6);
        canvas[4, 1].Should().Be(ChartColor.White);
    }

    [Fact]
    public void Text_puts_glyph_ink_where_the_font_says()
    {
        var canvas = new RgbCanvas(12, 7, ChartColor.White);
        canvas.DrawText(0, 0, "1-", ChartColor.Black);

        var glyph = BitmapFont.Glyph('1');
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 5; x++)
            {
                (canvas[x, y] == ChartColor.Black).Should().Be(glyph[(y * 5) + x]);
            }
        }

        Enumerable.Range(6, 5).Should().OnlyContain(x => canvas[x, 3] == ChartColor.Black, "the minus sign is the middle row of the second cell");
    }
}
