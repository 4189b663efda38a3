using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sora.Distributed.Configuration;

/// <summary>
/// A mapping in a YAML job file, read key by key with errors that name the file, line, key path and
/// what was allowed. Keys nobody read are reported by <see cref="ThrowOnUnknownKeys"/>, so a typo is an
/// error rather than a silently ignored setting.
/// </summary>
public sealed class YamlSection
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tested = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YamlSection> _children = new(StringComparer.Ordinal);

    private YamlSection(string file, string path, YamlMappingNode node)
    {
        File = file;
        Path = path;
        _node = node;
    }

    public string File { get; }

    /// <summary>Dotted key path of this section ("" for the document root).</summary>
    public string Path { get; }

    /// <summary>Parses a YAML document whose root is a mapping.</summary>
    public static YamlSection Parse(string yaml, string file) => new(file, string.Empty, Load(yaml, file).Root);

    /// <summary><paramref name="yaml"/> (a job file's text) with the top-level <paramref name="key"/> set to <paramref name="value"/>, added when absent; comments are not kept.</summary>
    public static string WithTopLevelScalar(string yaml, string key, string value, string file)
    {
        var (stream, root) = Load(yaml, file);
        root.Children[new YamlScalarNode(key)] = new YamlScalarNode(value) { Style = ScalarStyle.DoubleQuoted };
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static (YamlStream Stream, YamlMappingNode Root) Load(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException($"{file}: the job file must be a YAML mapping (key: value lines)");
        }

        return (stream, root);
    }

    public static YamlSection Empty(string file, string path) => new(file, path, new YamlMappingNode());

    public bool Has(string key)
    {
        _tested.Add(key);
        return _node.Children.ContainsKey(new YamlScalarNode(key));
    }

    /// <summary>A nested mapping; an absent key gives an empty section (all defaults).</summary>
    public YamlSection Section(string key)
    {
        _read.Add(key);
        if (_children.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var path = Join(key);
        YamlSection child;
        if (!TryGet(key, out var node))
        {
            child = Empty(File, path);
        }
        else if (node is YamlMappingNode mapping)
        {
            child = new YamlSection(File, path, mapping);
        }
        else
        {
            throw Error(node, path, "must be a mapping of keys to values");
        }

        _children[key] = child;
        return child;
    }

    public string String(string key, string fallback) => Scalar(key, fallback, (text, _) => text);

    public string? OptionalString(string key) => Has(key) ? String(key, string.Empty) : MarkRead(key);

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        Scalar(key, fallback, (text, node) => Range(int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Error(node, Join(key), $"must be an integer (got '{text}')"), min, max, key, node));

    public long Long(string key, long fallback, long min = long.MinValue, long max = long.MaxValue) =>
        Scalar(key, fallback, (text, node) => Range(long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Error(node, Join(key), $"must be an integer (got '{text}')"), min, max, key, node));

    public double Double(string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        Scalar(key, fallback, (text, node) => Range(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : throw Error(node, Join(key), $"must be a number (got '{text}')"), min, max, key, node));

    public double? OptionalDouble(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (!Has(key) || IsNull(key))
        {
            MarkRead(key);
            return null;
        }

        return Double(key, 0, min, max);
    }

    public bool Bool(string key, bool fallback) =>
        Scalar(key, fallback, (text, node) => text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(node, Join(key), $"must be true or false (got '{text}')"),
        });

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), returned as written in the list.</summary>
    public string Choice(string key, string fallback, params string[] allowed) =>
        Scalar(key, fallback, (text, node) => allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase))
            ?? throw Error(node, Join(key), $"must be one of {string.Join(", ", allowed)} (got '{text}')"));

    /// <summary>A list of scalars.</summary>
    public IReadOnlyList<string> Strings(string key, IReadOnlyList<string> fallback)
    {
        _read.Add(key);
        if (!TryGet(key, out var node))
        {
            return fallback;
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw Error(node, Join(key), "must be a list");
        }

        return sequence.Children.Select((item, i) => item is YamlScalarNode s ? s.Value ?? string.Empty : throw Error(item, $"{Join(key)}[{i}]", "must be a single value")).ToArray();
    }

    /// <summary>A list of integer lists, such as [[32, 32], [48, 32]].</summary>
    public IReadOnlyList<int[]> IntLists(string key, IReadOnlyList<int[]> fallback, int length, int min = 1)
    {
        _read.Add(key);
        if (!TryGet(key, out var node))
        {
            return fallback;
        }

        if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            throw Error(node, Join(key), $"must be a non-empty list of [{string.Join(", ", Enumerable.Repeat("n", length))}] lists");
        }

        return sequence.Children.Select((item, i) =>
        {
            var path = $"{Join(key)}[{i}]";
            if (item is not YamlSequenceNode inner || inner.Children.Count != length)
            {
                throw Error(item, path, $"must be a list of {length} integers");
            }

            return inner.Children.Select(v => v is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) && x >= min
                ? x
                : throw Error(v, path, $"must hold integers >= {min}")).ToArray();
        }).ToArray();
    }

    /// <summary>A list of integers.</summary>
    public int[] Ints(string key, int[] fallback, int min = int.MinValue)
    {
        var values = Strings(key, fallback.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
        return values.Select((v, i) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) && x >= min
            ? x
            : throw new ConfigException($"{File}: {Join(key)}[{i}]: must be an integer >= {min} (got '{v}')")).ToArray();
    }

    /// <summary>A list of numbers, each in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double[] Doubles(string key, double[] fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var values = Strings(key, fallback.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray());
        return values.Select((v, i) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) && x >= min && x <= max
            ? x
            : throw new ConfigException($"{File}: {Join(key)}[{i}]: must be a number in [{min}, {max}] (got '{v}')")).ToArray();
    }

    /// <summary>
    /// Dotted paths of every value key a reader asked about (read, or tested with <see cref="Has"/>), here and in the
    /// sections read from here: the keys the config records bind, which docs/configuration.md must list.
    /// </summary>
    public IEnumerable<string> KeyPathsAsked() =>
        _read.Union(_tested).Where(key => !_children.ContainsKey(key)).Select(Join)
            .Concat(_children.Values.SelectMany(child => child.KeyPathsAsked()));

    /// <summary>Throws if this section or any section read from it has keys that no reader asked for.</summary>
    public void ThrowOnUnknownKeys()
    {
        foreach (var (keyNode, _) in _node.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (!_read.Contains(key))
            {
                var known = string.Join(", ", _read.Order(StringComparer.Ordinal));
                throw Error(keyNode, Join(key), $"unknown key; {(Path.Length == 0 ? "the top level" : Path)} takes {known}");
            }
        }

        foreach (var child in _children.Values)
        {
            child.ThrowOnUnknownKeys();
        }
    }

    /// <summary>An error at a key of this section.</summary>
    public ConfigException Invalid(string key, string message)
    {
        var at = TryGet(key, out var node) ? $":{node.Start.Line}:{node.Start.Column}" : string.Empty;
        return new ConfigException($"{File}{at}: {Join(key)}: {message}");
    }

    private T Scalar<T>(string key, T fallback, Func<string, YamlNode, T> parse)
    {
        _read.Add(key);
        if (!TryGet(key, out var node) || (node is YamlScalarNode { Value: null or "" or "~" or "null" } && typeof(T) != typeof(string)))
        {
            return fallback;
        }

        if (node is not YamlScalarNode scalar)
        {
            throw Error(node, Join(key), "must be a single value");
        }

        return parse(scalar.Value ?? string.Empty, node);
    }

    private T Range<T>(T value, T min, T max, string key, YamlNode node)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            var bounds = max.Equals(MaxOf<T>()) ? $">= {min}" : min.Equals(MinOf<T>()) ? $"<= {max}" : $"in [{min}, {max}]";
            throw Error(node, Join(key), $"must be {bounds} (got {value})");
        }

        return value;
    }

    private static T MaxOf<T>() => typeof(T) == typeof(int) ? (T)(object)int.MaxValue : typeof(T) == typeof(long) ? (T)(object)long.MaxValue : (T)(object)double.PositiveInfinity;

    private static T MinOf<T>() => typeof(T) == typeof(int) ? (T)(object)int.MinValue : typeof(T) == typeof(long) ? (T)(object)long.MinValue : (T)(object)double.NegativeInfinity;

    private bool IsNull(string key) => TryGet(key, out var node) && node is YamlScalarNode { Value: null or "" or "~" or "null" };

    private string? MarkRead(string key)
    {
        _read.Add(key);
        return null;
    }

    private bool TryGet(string key, out YamlNode node) => _node.Children.TryGetValue(new YamlScalarNode(key), out node!);

    private string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private ConfigException Error(YamlNode node, string path, string message) =>
        new($"{File}:{node.Start.Line}:{node.Start.Column}: {path}: {message}");
}

/// <summary>A job configuration that cannot be used; the message names the file, line and key.</summary>
public class ConfigException : Exception
{
    public ConfigException()
    {
    }

    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
