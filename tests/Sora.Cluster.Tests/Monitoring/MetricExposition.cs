namespace Sora.Cluster.Tests.Monitoring;

/// <summary>The metric families a Prometheus text exposition declares (its <c># TYPE</c> lines) and the names of its samples.</summary>
internal sealed class MetricExposition
{
    private static readonly string[] HistogramSuffixes = ["_bucket", "_sum", "_count"];
    private static readonly string[] SummarySuffixes = ["_sum", "_count"];

    private MetricExposition(IReadOnlyDictionary<string, string> families, IReadOnlySet<string> sampleNames)
    {
        Families = families;
        SampleNames = sampleNames;
    }

    /// <summary>Family name → type (counter, gauge, histogram, summary, untyped).</summary>
    public IReadOnlyDictionary<string, string> Families { get; }

    /// <summary>The names of the samples present (a histogram's are its _bucket, _sum and _count series).</summary>
    public IReadOnlySet<string> SampleNames { get; }

    public static MetricExposition Parse(string text)
    {
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                families[fields[2]] = fields[3];
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                samples.Add(line[..line.IndexOfAny(['{', ' '])]);
            }
        }

        return new MetricExposition(families, samples);
    }

    /// <summary>
    /// Whether a PromQL query may name <paramref name="name"/>: a declared family, or one of the series a
    /// histogram (_bucket, _sum, _count) or summary (_sum, _count) family is exposed as.
    /// </summary>
    public bool Declares(string name) =>
        Families.TryGetValue(name, out var type) ? type is not ("histogram" or "summary")
        : Suffixed(name, "histogram", HistogramSuffixes) || Suffixed(name, "summary", SummarySuffixes);

    private bool Suffixed(string name, string type, string[] suffixes) =>
        suffixes.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal) && Families.GetValueOrDefault(name[..^suffix.Length]) == type);
}
