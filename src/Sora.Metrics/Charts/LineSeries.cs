namespace Sora.Metrics.Charts;

/// <summary>One named line of a <see cref="LineChart"/>: points in the order they are joined.</summary>
public sealed record LineSeries(string Name, IReadOnlyList<(double X, double Y)> Points, ChartColor Color);
