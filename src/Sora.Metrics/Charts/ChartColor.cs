namespace Sora.Metrics.Charts;

/// <summary>An 8-bit RGB colour for chart series.</summary>
public readonly record struct ChartColor(byte R, byte G, byte B)
{
    /// <summary>The colours series get in order when none is given (matplotlib's "tab10").</summary>
    public static IReadOnlyList<ChartColor> Cycle { get; } =
    [
        new(31, 119, 180),
        new(255, 127, 14),
        new(44, 160, 44),
        new(214, 39, 40),
        new(148, 103, 189),
        new(140, 86, 75),
        new(227, 119, 194),
        new(127, 127, 127),
        new(188, 189, 34),
        new(23, 190, 207),
    ];

    public static ChartColor White { get; } = new(255, 255, 255);

    public static ChartColor Black { get; } = new(0, 0, 0);

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}
