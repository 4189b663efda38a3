using Sora.Imaging;

namespace Sora.Metrics.Charts;

/// <summary>
/// A line chart of named (x, y) series with a title, axis labels, ticks, a legend and an optional log-scale y axis,
/// rendered to a PNG without any graphics library. Points with a non-finite coordinate (or y &lt;= 0 on a log axis)
/// are not drawn and break the line.
/// </summary>
public sealed class LineChart
{
    /// <summary>Smallest image <see cref="WritePng"/> draws.</summary>
    public const int MinWidth = 160;

    /// <summary>Smallest image <see cref="WritePng"/> draws.</summary>
    public const int MinHeight = 120;

    private const int Margin = 10;
    private const int TickLength = 4;
    private const int LineThickness = 2;
    private static readonly ChartColor GridColor = new(225, 225, 225);
    private static readonly ChartColor FrameColor = new(40, 40, 40);
    private static readonly ChartColor LegendBorder = new(160, 160, 160);

    private readonly List<LineSeries> _series = [];

    public string Title { get; init; } = string.Empty;

    public string XLabel { get; init; } = string.Empty;

    public string YLabel { get; init; } = string.Empty;

    /// <summary>A base-10 log y axis, for values (losses) that span decades.</summary>
    public bool LogY { get; init; }

    public IReadOnlyList<LineSeries> Series => _series;

    /// <summary>Adds a series; without <paramref name="color"/> it takes the next colour of <see cref="ChartColor.Cycle"/>.</summary>
    public LineSeries Add(string name, IEnumerable<(double X, double Y)> points, ChartColor? color = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(points);
        var copy = points.ToArray();
        if (copy.Length == 0)
        {
            throw new ArgumentException($"series '{name}' of chart '{Title}' has no points", nameof(points));
        }

        if (_series.Any(s => s.Name == name))
        {
            throw new ArgumentException($"chart '{Title}' already has a series named '{name}'", nameof(name));
        }

        var series = new LineSeries(name, copy, color ?? ChartColor.Cycle[_series.Count % ChartColor.Cycle.Count]);
        _series.Add(series);
        return series;
    }

    /// <summary>Adds a series of y values at x = 0, 1, 2, ...</summary>
    public LineSeries Add(string name, IEnumerable<double> values, ChartColor? color = null) =>
        Add(name, (values ?? throw new ArgumentNullException(nameof(values))).Select((y, i) => ((double)i, y)), color);

    /// <summary>Renders the chart into a <paramref name="width"/> × <paramref name="height"/> PNG file.</summary>
    public void WritePng(string path, int width = 800, int height = 480)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (canvas, _) = Render(width, height);
        PngEncoder.WriteFile(path, canvas.Width, canvas.Height, canvas.Pixels);
    }

    /// <summary>The bytes of the PNG <see cref="WritePng"/> writes.</summary>
    public byte[] EncodePng(int width = 800, int height = 480)
    {
        var (canvas, _) = Render(width, height);
        return PngEncoder.Encode(canvas.Width, canvas.Height, canvas.Pixels);
    }

    internal (RgbCanvas Canvas, ChartFrame Frame) Render(int width, int height)
    {
        if (width < MinWidth || height < MinHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"chart '{Title}': {width}x{height} is smaller than the {MinWidth}x{MinHeight} its labels need");
        }

        if (_series.Count == 0)
        {
            throw new InvalidOperationException($"chart '{Title}' has no series to draw");
        }

        var drawable = _series.Select(s => (Series: s, Points: s.Points.Where(Drawable).ToArray())).ToArray();
        foreach (var (series, points) in drawable)
        {
            if (points.Length == 0)
            {
                throw new InvalidOperationException(
                    $"series '{series.Name}' of chart '{Title}' has no point that can be drawn: every point has a non-finite coordinate{(LogY ? " or y <= 0, which a log axis cannot show" : string.Empty)}");
            }
        }

        var all = drawable.SelectMany(d => d.Points).ToArray();
        var xAxis = AxisScale.Linear(all.Min(p => p.X), all.Max(p => p.X));
        var yAxis = LogY ? AxisScale.Log10(all.Min(p => p.Y), all.Max(p => p.Y)) : AxisScale.Linear(all.Min(p => p.Y), all.Max(p => p.Y));

        var canvas = new RgbCanvas(width, height, ChartColor.White);
        var titleScale = BitmapFont.MeasureWidth(Title, 2) <= width - (2 * Margin) ? 2 : 1;
        var textHeight = BitmapFont.GlyphHeight;
        var top = Margin + (Title.Length > 0 ? (textHeight * titleScale) + 8 : 0) + (YLabel.Length > 0 ? textHeight + 6 : 0);
        var left = Margin + yAxis.Labels.Max(l => BitmapFont.MeasureWidth(l, 1)) + TickLength + 4;
        var bottom = height - Margin - textHeight - TickLength - 4 - (XLabel.Length > 0 ? textHeight + 6 : 0);
        var right = width - Math.Max(Margin, (BitmapFont.MeasureWidth(xAxis.Labels[^1], 1) / 2) + 2);
        var plot = new PixelRect(left, top, right - left, bottom - top);
        if (plot.Width < 40 || plot.Height < 30)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"chart '{Title}': {width}x{height} leaves no room to plot beside its labels");
        }

        var frame = new ChartFrame(plot, xAxis, yAxis);
        DrawGrid(canvas, frame);
        canvas.Clip = plot;
        foreach (var series in _series)
        {
            DrawSeries(canvas, frame, series);
        }

        canvas.Clip = new PixelRect(0, 0, width, height);
        DrawAxes(canvas, frame);
        DrawLegend(canvas, plot);
        if (Title.Length > 0)
        {
            canvas.DrawText((width - BitmapFont.MeasureWidth(Title, titleScale)) / 2, Margin, Title, ChartColor.Black, titleScale);
        }

        if (YLabel.Length > 0)
        {
            canvas.DrawText(Math.Max(Margin, plot.Left - (BitmapFont.MeasureWidth(YLabel, 1) / 2)), plot.Top - textHeight - 6, YLabel, ChartColor.Black);
        }

        if (XLabel.Length > 0)
        {
            canvas.DrawText(plot.Left + ((plot.Width - BitmapFont.MeasureWidth(XLabel, 1)) / 2), height - Margin - textHeight, XLabel, ChartColor.Black);
        }

        return (canvas, frame);
    }

    private bool Drawable((double X, double Y) p) => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogY || p.Y > 0);

    private static void DrawGrid(RgbCanvas canvas, ChartFrame frame)
    {
        var plot = frame.Plot;
        foreach (var tick in frame.X.Ticks)
        {
            var x = frame.PixelX(tick);
            canvas.DrawLine(x, plot.Top, x, plot.Bottom - 1, GridColor);
        }

        foreach (var tick in frame.Y.Ticks)
        {
            var y = frame.PixelY(tick);
            canvas.DrawLine(plot.Left, y, plot.Right - 1, y, GridColor);
        }
    }

    private void DrawSeries(RgbCanvas canvas, ChartFrame frame, LineSeries series)
    {
        (int X, int Y)? previous = null;
        var points = series.Points;
        for (var i = 0; i < points.Count; i++)
        {
            if (!Drawable(points[i]))
            {
                previous = null;
                continue;
            }

            var current = (X: frame.PixelX(points[i].X), Y: frame.PixelY(points[i].Y));
            if (previous is { } p)
            {
                canvas.DrawLine(p.X, p.Y, current.X, current.Y, series.Color, LineThickness);
            }
            else if (i + 1 >= points.Count || !Drawable(points[i + 1]))
            {
                // A point with no drawable neighbour would be invisible as a line.
                canvas.Dot(current.X, current.Y, series.Color, LineThickness + 2);
            }

            previous = current;
        }
    }

    private static void DrawAxes(RgbCanvas canvas, ChartFrame frame)
    {
        var plot = frame.Plot;
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom - 1, FrameColor);
        canvas.DrawLine(plot.Left, plot.Bottom - 1, plot.Right - 1, plot.Bottom - 1, FrameColor);

        var labelWidth = frame.X.Labels.Max(l => BitmapFont.MeasureWidth(l, 1)) + 8;
        var every = Math.Max(1, (int)Math.Ceiling(frame.X.Ticks.Count * labelWidth / (double)plot.Width));
        for (var i = 0; i < frame.X.Ticks.Count; i++)
        {
            var x = frame.PixelX(frame.X.Ticks[i]);
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + TickLength - 1, FrameColor);
            if (i % every == 0)
            {
                var label = frame.X.Labels[i];
                canvas.DrawText(x - (BitmapFont.MeasureWidth(label, 1) / 2), plot.Bottom + TickLength + 3, label, ChartColor.Black);
            }
        }

        for (var i = 0; i < frame.Y.Ticks.Count; i++)
        {
            var y = frame.PixelY(frame.Y.Ticks[i]);
            canvas.DrawLine(plot.Left - TickLength, y, plot.Left - 1, y, FrameColor);
            var label = frame.Y.Labels[i];
            canvas.DrawText(plot.Left - TickLength - 3 - BitmapFont.MeasureWidth(label, 1), y - (BitmapFont.GlyphHeight / 2), label, ChartColor.Black);
        }
    }

    /// <summary>The legend goes in the plot corner that hides the fewest drawn line pixels (top right on a tie).</summary>
    private void DrawLegend(RgbCanvas canvas, PixelRect plot)
    {
        const int swatch = 16, row = 11, pad = 5, inset = 6;
        var width = pad + swatch + 4 + _series.Max(s => BitmapFont.MeasureWidth(s.Name, 1)) + pad;
        var height = (pad * 2) + (row * _series.Count) - (row - BitmapFont.GlyphHeight);
        int left = plot.Left + inset + 1, right = plot.Right - width - inset, top = plot.Top + inset, bottom = plot.Bottom - height - inset - 1;
        var box = new[] { (right, top), (left, top), (right, bottom), (left, bottom) }
            .Select(corner => new PixelRect(corner.Item1, corner.Item2, width, height))
            .MinBy(candidate => HiddenInk(canvas, candidate));
        canvas.FillRect(box, ChartColor.White);
        canvas.StrokeRect(box, LegendBorder);
        for (var i = 0; i < _series.Count; i++)
        {
            var y = box.Top + pad + (i * row);
            var middle = y + (BitmapFont.GlyphHeight / 2);
            canvas.DrawLine(box.Left + pad, middle, box.Left + pad + swatch - 1, middle, _series[i].Color, LineThickness);
            canvas.DrawText(box.Left + pad + swatch + 4, y, _series[i].Name, ChartColor.Black);
        }
    }

    private static int HiddenInk(RgbCanvas canvas, PixelRect box)
    {
        var count = 0;
        for (var y = Math.Max(0, box.Top); y < Math.Min(canvas.Height, box.Bottom); y++)
        {
            for (var x = Math.Max(0, box.Left); x < Math.Min(canvas.Width, box.Right); x++)
            {
                var pixel = canvas[x, y];
                count += pixel == ChartColor.White || pixel == GridColor ? 0 : 1;
            }
        }

        return count;
    }
}
