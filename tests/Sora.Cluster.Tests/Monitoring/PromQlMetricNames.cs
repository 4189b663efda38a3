using System.Text.RegularExpressions;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>A metric selector in a PromQL expression: the metric's name and its label matchers as written (without braces; empty when none).</summary>
internal sealed record MetricSelector(string Name, string Matchers);

/// <summary>
/// The metric selectors a PromQL expression (or a Grafana <c>label_values(metric, label)</c> query) uses. Not a full parser:
/// enough for dashboards, where a name is an identifier that is neither a function (followed by '('), a keyword,
/// nor part of a label list (<c>by (...)</c>, <c>without (...)</c>, <c>on (...)</c>, ...), a string or a range.
/// </summary>
internal static partial class PromQlMetricNames
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
    };

    public static IReadOnlyList<MetricSelector> Selectors(string expression)
    {
        // label_values(metric{...}, label) names a metric; label_values(label) names none.
        var labelValues = LabelValues().Match(expression);
        if (labelValues.Success)
        {
            return labelValues.Groups["metric"].Success ? Selectors(labelValues.Groups["metric"].Value) : [];
        }

        var text = Strings().Replace(expression, "\"\"");
        text = Ranges().Replace(text, "");
        text = LabelLists().Replace(text, " ");
        var selectors = new List<MetricSelector>();
        foreach (Match match in Identifier().Matches(text))
        {
            var name = match.Groups["name"].Value;
            var isFunction = match.Groups["call"].Success;
            if (isFunction || Keywords.Contains(name) || match.Groups["variable"].Success)
            {
                continue;
            }

            selectors.Add(new MetricSelector(name, MatchersAfter(expression, name, selectors.Count(s => s.Name == name))));
        }

        return selectors;
    }

    // The label matchers of the n-th selector of `name` in the original expression (strings intact).
    private static string MatchersAfter(string expression, string name, int occurrence)
    {
        var matches = Regex.Matches(expression, $@"(?<![\w:$]){Regex.Escape(name)}(?![\w:])\s*(\{{(?<m>[^}}]*)\}})?");
        return occurrence < matches.Count && matches[occurrence].Groups["m"].Success ? matches[occurrence].Groups["m"].Value.Trim() : "";
    }

    [GeneratedRegex(@"^\s*label_values\(\s*(?:(?<metric>[A-Za-z_:][\w:]*(?:\{[^}]*\})?)\s*,\s*)?[A-Za-z_]\w*\s*\)\s*$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'|`[^`]*`")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|\{[^}]*\}")]
    private static partial Regex LabelLists();

    [GeneratedRegex(@"(?<variable>\$\{?)?(?<![\w:.])(?<name>[A-Za-z_:][\w:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();
}
