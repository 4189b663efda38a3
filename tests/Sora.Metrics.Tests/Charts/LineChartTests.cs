using Sora.Data.Video;
using Sora.Metrics.Charts;

namespace Sora.Metrics.Tests.Charts;

public class LineChartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-metrics-tests-").FullName;

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static LineChart LossChart(bool logY = false)
    {
        var chart = new LineChart { Title = "Training loss", XLabel = "step", YLabel = "loss", LogY = logY };
        chart.Add("train", Enumerable.Range(0, 200).Select(i => ((double)i, 2.5 * Math.Exp(-i / 40.0))));
        chart.Add("eval", Enumerable.Range(0, 11).Select(i => (i * 20.0, 2.7 * Math.Exp(-i * 20 / 45.0))));
        return chart;
    }

    [Fact]
    public void The_PNG_has_the_requested_size_and_ffmpeg_decodes_exactly_what_was_drawn()
    {
        var chart = LossChart();
        var path = Path.Combine(_directory, "loss.png");

        chart.WritePng(path, 640, 400);

        var probe = Ffmpeg.Default.Probe(path);
        (probe.Codec, probe.Width, probe.Height).Should().Be(("png", 640, 400));
        var decoded = Ffmpeg.Default.DecodeRaw(path, 640, 400);
        decoded.Pixels.ToArray().Should().Equal(chart.Render(640, 400).Canvas.Pixels);
        chart.EncodePng(640, 400).Should().Equal(File.ReadAllBytes(path));
    }

    [Fact]
    public void Lines_are_drawn_in_the_series_colours()
    {
        var chart = new LineChart { Title = "lines" };
        var rising = chart.Add("rising", [(0.0, 0.0), (10.0, 10.0)]);
        var flat = chart.Add("flat", [(0.0, 5.0), (10.0, 5.0)]);
        var (canvas, frame) = chart.Render(400, 300);

        rising.Color.Should().Be(ChartColor.Cycle[0]);
        flat.Color.Should().Be(ChartColor.Cycle[1]);
        foreach (var t in new[] { 0.02, 0.3, 0.55, 0.9, 0.98 })
        {
            canvas[frame.PixelX(10 * t), frame.PixelY(10 * t)].Should().Be(rising.Color, $"the rising line passes through ({10 * t}, {10 * t}) and the legend avoids it");
        }

        var row = frame.PixelY(5);
        var flatPixels = Enumerable.Range(frame.Plot.Left, frame.Plot.Width).Count(x => canvas[x, row] == flat.Color || canvas[x, row + 1] == flat.Color);
        flatPixels.Should().BeGreaterThan(frame.Plot.Width - 10, "the flat line crosses the plot (the rising line crosses it once)");
    }

    [Fact]
    public void A_log_axis_shows_values_spanning_decades_as_a_straight_line()
    {
        var chart = new LineChart { Title = "decay", LogY = true };
        var series = chart.Add("loss", Enumerable.Range(0, 7).Select(i => ((double)i, Math.Pow(10, 3 - i))));
        var (canvas, frame) = chart.Render(500, 400);

        frame.Y.Labels.Should().Equal("0.001", "0.01", "0.1", "1", "10", "100", "1000");
        var rows = Enumerable.Range(0, 7).Select(i => frame.PixelY(Math.Pow(10, 3 - i))).ToArray();
        var gaps = rows.Zip(rows.Skip(1), (a, b) => b - a).ToArray();
        gaps.Max().Should().BeLessThanOrEqualTo(gaps.Min() + 1, "each decade is the same height");
        canvas[frame.PixelX(2.5), frame.PixelY(Math.Pow(10, 0.5))].Should().Be(series.Color, "10^(3 - x) is a straight line on a log axis");
    }

    [Fact]
    public void A_log_axis_skips_points_it_cannot_show_and_rejects_a_series_made_only_of_them()
    {
        var chart = new LineChart { Title = "log", LogY = true };
        chart.Add("mixed", [(0.0, 1.0), (1.0, 0.0), (2.0, -1.0), (3.0, 10.0)]);
        chart.Invoking(c => c.Render(300, 200)).Should().NotThrow();

        chart.Add("zeros", [(0.0, 0.0), (1.0, -2.0)]);
        chart.Invoking(c => c.Render(300, 200)).Should().Throw<InvalidOperationException>().WithMessage("series 'zeros' of chart 'log' has no point that can be drawn*y <= 0*log axis*");
    }

    [Fact]
    public void Non_finite_points_break_the_line()
    {
        var chart = new LineChart();
        var series = chart.Add("gap", [(0.0, 0.0), (4.0, 4.0), (5.0, double.NaN), (6.0, 6.0), (10.0, 10.0)]);
        var (canvas, frame) = chart.Render(400, 300);

        canvas[frame.PixelX(2), frame.PixelY(2)].Should().Be(series.Color);
        canvas[frame.PixelX(8), frame.PixelY(8)].Should().Be(series.Color);
        canvas[frame.PixelX(5), frame.PixelY(5)].Should().NotBe(series.Color, "no line is drawn across the NaN");
    }

    [Fact]
    public void A_lone_point_is_still_visible()
    {
        var chart = new LineChart();
        var series = chart.Add("one", [(3.0, 7.0)]);
        var (canvas, frame) = chart.Render(300, 200);
        canvas[frame.PixelX(3), frame.PixelY(7)].Should().Be(series.Color);
    }

    [Fact]
    public void Values_at_x_from_zero_make_a_series()
    {
        var chart = new LineChart();
        chart.Add("values", [1.0, 4.0, 9.0]).Points.Should().Equal((0.0, 1.0), (1.0, 4.0), (2.0, 9.0));
    }

    [Fact]
    public void Bad_input_is_a_clear_error()
    {
        var chart = new LineChart { Title = "loss" };
        chart.Invoking(c => c.Add("empty", Array.Empty<(double, double)>())).Should().Throw<ArgumentException>().WithMessage("series 'empty' of chart 'loss' has no points*");
        chart.Invoking(c => c.Render(400, 300)).Should().Throw<InvalidOperationException>().WithMessage("chart 'loss' has no series to draw");
        chart.Invoking(c => c.Add(" ", [(0.0, 0.0)])).Should().Throw<ArgumentException>();

        chart.Add("train", [(0.0, 1.0)]);
        chart.Invoking(c => c.Add("train", [(1.0, 1.0)])).Should().Throw<ArgumentException>().WithMessage("*already has a series named 'train'*");
        chart.Invoking(c => c.WritePng(Path.Combine(_directory, "small.png"), 100, 50)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*100x50 is smaller than the 160x120*");
    }

    [Fact]
    public void A_log_chart_of_a_real_loss_curve_writes_a_decodable_PNG()
    {
        var path = Path.Combine(_directory, "log.png");
        LossChart(logY: true).WritePng(path, 800, 480);
        Ffmpeg.Default.DecodeRaw(path, 800, 480).Frames.Should().Be(1);
    }
}
