namespace Sora.Metrics.Charts;

/// <summary>Where a rendered chart's plot area is and how data maps onto it.</summary>
internal sealed record ChartFrame(PixelRect Plot, AxisScale X, AxisScale Y)
{
    public int PixelX(double x) => Plot.Left + (int)Math.Round(X.Fraction(x) * (Plot.Width - 1));

    public int PixelY(double y) => Plot.Bottom - 1 - (int)Math.Round(Y.Fraction(y) * (Plot.Height - 1));
}
