using YamlDotNet.RepresentationModel;

namespace Sora.Deploy.Tests.Support;

/// <summary>The Kubernetes objects <c>helm template</c> printed, parsed.</summary>
public sealed class RenderedManifests(IReadOnlyList<(YamlMappingNode Node, string Text)> objects)
{
    public IReadOnlyList<YamlMappingNode> Objects { get; } = objects.Select(o => o.Node).ToArray();

    /// <summary>The text helm printed for each object, for checks over everything an object holds.</summary>
    public IReadOnlyList<(YamlMappingNode Node, string Text)> Printed { get; } = objects;

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Objects.Where(o => o.Scalar("kind") == kind);

    /// <summary>The one object of this kind and name; fails naming what was rendered.</summary>
    public YamlMappingNode Single(string kind, string name)
    {
        var found = OfKind(kind).Where(o => o.Map("metadata").Scalar("name") == name).ToArray();
        found.Should().ContainSingle($"one {kind} {name} is rendered (rendered: {string.Join(", ", Objects.Select(o => $"{o.Scalar("kind")}/{o.Map("metadata").Scalar("name")}"))})");
        return found[0];
    }

    /// <summary>The job YAML in the ConfigMap <paramref name="configMap"/> (under job.yaml), parsed: what the coordinator reads.</summary>
    public YamlMappingNode JobYaml(string configMap)
    {
        var job = new YamlStream();
        job.Load(new StringReader(JobYamlText(configMap)));
        return (YamlMappingNode)job.Documents[0].RootNode;
    }

    /// <summary>The job file's text as the coordinator reads it from the ConfigMap.</summary>
    public string JobYamlText(string configMap) => Single("ConfigMap", configMap).Map("data").Scalar("job.yaml")!;

    /// <summary>The first container of a Deployment's or Job's pod template.</summary>
    public static YamlMappingNode Container(YamlMappingNode workload) =>
        (YamlMappingNode)PodSpec(workload).Sequence("containers")[0];

    public static YamlMappingNode PodSpec(YamlMappingNode workload) =>
        workload.Map("spec").Map("template").Map("spec");

    public static IReadOnlyList<string> Strings(YamlSequenceNode sequence) =>
        sequence.Children.Select(c => ((YamlScalarNode)c).Value ?? string.Empty).ToArray();

    /// <summary>The value that follows <paramref name="flag"/> in a container's args; fails when the flag is absent.</summary>
    public static string Flag(YamlMappingNode container, string flag)
    {
        var args = Strings(container.Sequence("args"));
        var at = Array.IndexOf(args.ToArray(), flag);
        at.Should().BeGreaterThanOrEqualTo(0, $"the args {string.Join(' ', args)} hold {flag}");
        at.Should().BeLessThan(args.Count - 1, $"{flag} has a value");
        return args[at + 1];
    }
}

/// <summary>Navigation over parsed manifests that fails with the missing key's name.</summary>
public static class YamlNodeNavigation
{
    public static YamlNode? Get(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode Map(this YamlMappingNode node, string key) =>
        node.Get(key) as YamlMappingNode ?? throw new InvalidOperationException($"'{key}' is not a mapping in:\n{Show(node)}");

    public static YamlSequenceNode Sequence(this YamlMappingNode node, string key) =>
        node.Get(key) as YamlSequenceNode ?? throw new InvalidOperationException($"'{key}' is not a list in:\n{Show(node)}");

    public static string? Scalar(this YamlMappingNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    /// <summary>The mapping in a list of mappings whose <paramref name="key"/> is <paramref name="value"/> (a port, volume, env var).</summary>
    public static YamlMappingNode Named(this YamlSequenceNode list, string value, string key = "name") =>
        list.Children.OfType<YamlMappingNode>().SingleOrDefault(m => m.Scalar(key) == value)
            ?? throw new InvalidOperationException($"no entry with {key}: {value} in:\n{Show(list)}");

    public static bool HasNamed(this YamlSequenceNode list, string value, string key = "name") =>
        list.Children.OfType<YamlMappingNode>().Any(m => m.Scalar(key) == value);

    private static string Show(YamlNode node)
    {
        var text = node.ToString();
        return text.Length > 2000 ? text[..2000] : text;
    }
}
