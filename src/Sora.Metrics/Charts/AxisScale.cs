using System.Globalization;

namespace Sora.Metrics.Charts;

/// <summary>
/// One chart axis: its range (widened to whole tick steps, or whole decades on a log axis), its ticks and their
/// labels, and where a value falls along it.
/// </summary>
internal sealed class AxisScale
{
    private readonly double _low;
    private readonly double _high;

    private AxisScale(bool isLog, double low, double high, IReadOnlyList<double> ticks, IReadOnlyList<string> labels)
    {
        IsLog = isLog;
        _low = low;
        _high = high;
        Ticks = ticks;
        Labels = labels;
    }

    public bool IsLog { get; }

    /// <summary>Smallest value on the axis (in data units).</summary>
    public double Min => IsLog ? Math.Pow(10, _low) : _low;

    /// <summary>Largest value on the axis (in data units).</summary>
    public double Max => IsLog ? Math.Pow(10, _high) : _high;

    public IReadOnlyList<double> Ticks { get; }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>A linear axis covering [min, max] with about <paramref name="targetTicks"/> ticks at 1, 2 or 5 × 10^k steps.</summary>
    public static AxisScale Linear(double min, double max, int targetTicks = 5)
    {
        if (max <= min)
        {
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            (min, max) = (min - pad, max + pad);
        }

        var step = NiceStep((max - min) / targetTicks);
        var first = Math.Floor(min / step);
        var last = Math.Ceiling(max / step);
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step)));
        var ticks = new List<double>();
        for (var k = first; k <= last; k++)
        {
            var tick = k * step;
            ticks.Add(Math.Abs(tick) < step * 1e-9 ? 0 : tick);
        }

        return new AxisScale(false, first * step, last * step, ticks, ticks.Select(t => Format(t, decimals)).ToArray());
    }

    /// <summary>A base-10 log axis covering [min, max] (both > 0), widened to whole decades; ticks at 10^k, and also at 2 and 5 × 10^k when it spans at most two decades.</summary>
    public static AxisScale Log10(double min, double max)
    {
        if (!(min > 0) || !(max >= min))
        {
            throw new ArgumentOutOfRangeException(nameof(min), $"a log axis needs 0 < min <= max, got [{min}, {max}]");
        }

        var low = (int)Math.Floor(Math.Log10(min));
        var high = (int)Math.Ceiling(Math.Log10(max));
        if (high == low)
        {
            high++;
        }

        var decades = high - low;
        var every = Math.Max(1, (int)Math.Ceiling(decades / 10.0));
        var mantissas = decades <= 2 ? new[] { 1.0, 2.0, 5.0 } : [1.0];
        var ticks = new List<double>();
        var labels = new List<string>();
        for (var k = low; k <= high; k++)
        {
            if ((k - low) % every != 0 && k != high)
            {
                continue;
            }

            foreach (var m in mantissas)
            {
                if (k == high && m > 1)
                {
                    break;
                }

                ticks.Add(m * Math.Pow(10, k));
                labels.Add(Format(m * Math.Pow(10, k), Math.Max(0, -k)));
            }
        }

        return new AxisScale(true, low, high, ticks, labels);
    }

    /// <summary>Where <paramref name="value"/> falls: 0 at <see cref="Min"/>, 1 at <see cref="Max"/>.</summary>
    public double Fraction(double value) => ((IsLog ? Math.Log10(value) : value) - _low) / (_high - _low);

    /// <summary>A tick label: fixed point with <paramref name="decimals"/> decimals, or "2.5e-5" style for very small or large values.</summary>
    internal static string Format(double value, int decimals)
    {
        if (value == 0)
        {
            return "0";
        }

        var magnitude = Math.Abs(value);
        return magnitude is < 1e-3 or >= 1e5
            ? value.ToString("0.##e0", CultureInfo.InvariantCulture)
            : value.ToString("F" + Math.Min(decimals, 6).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>The 1, 2 or 5 × 10^k nearest above <paramref name="raw"/>.</summary>
    private static double NiceStep(double raw)
    {
        var exponent = Math.Floor(Math.Log10(raw));
        var fraction = raw / Math.Pow(10, exponent);
        var nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * Math.Pow(10, exponent);
    }
}
