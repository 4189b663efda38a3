using System.Text.Json;
using System.Text.RegularExpressions;
using Sora.Deploy.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Sora.Deploy.Tests.Chart;

/// <summary>The chart's README documents every value the schema allows, and values.yaml sets only those.</summary>
public partial class ChartReadmeTests
{
    [Fact]
    public void The_README_documents_every_value_and_no_other()
    {
        var documented = DocumentedKeys();
        var schemaKeys = SchemaLeafKeys();
        schemaKeys.Except(documented).Should().BeEmpty("every key of values.schema.json has a row in helm/sora/README.md");
        documented.Except(schemaKeys).Should().BeEmpty("every row of helm/sora/README.md is a key of values.schema.json");
    }

    [Fact]
    public void Every_key_of_values_yaml_is_in_the_schema_and_documented()
    {
        var schemaKeys = SchemaLeafKeys();
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "values.yaml"))));
        var valueKeys = LeafKeys((YamlMappingNode)stream.Documents[0].RootNode, string.Empty, schemaKeys).ToArray();
        valueKeys.Should().NotBeEmpty();
        valueKeys.Except(schemaKeys).Should().BeEmpty("values.yaml sets only keys the schema knows");
        schemaKeys.Except(valueKeys).Except(["global"]).Should().BeEmpty("values.yaml shows a default for every key");
        valueKeys.Except(DocumentedKeys()).Should().BeEmpty();
    }

    // A key is a leaf where the schema stops naming properties (free-form Kubernetes objects such as resources).
    private static IEnumerable<string> LeafKeys(YamlMappingNode node, string prefix, IReadOnlyCollection<string> schemaLeaves)
    {
        foreach (var (key, value) in node.Children)
        {
            var path = prefix.Length == 0 ? ((YamlScalarNode)key).Value! : $"{prefix}.{((YamlScalarNode)key).Value}";
            if (value is YamlMappingNode mapping && !schemaLeaves.Contains(path))
            {
                foreach (var leaf in LeafKeys(mapping, path, schemaLeaves))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    private static HashSet<string> SchemaLeafKeys()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "values.schema.json")));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        Collect(schema.RootElement, string.Empty);
        return keys;

        void Collect(JsonElement node, string prefix)
        {
            node.GetProperty("additionalProperties").GetBoolean().Should().BeFalse($"the schema at '{(prefix.Length == 0 ? "/" : prefix)}' is strict");
            foreach (var property in node.GetProperty("properties").EnumerateObject())
            {
                var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
                if (property.Value.TryGetProperty("properties", out _))
                {
                    Collect(property.Value, path);
                }
                else
                {
                    keys.Add(path);
                }
            }
        }
    }

    private static HashSet<string> DocumentedKeys()
    {
        var readme = File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "README.md"));
        var section = readme[readme.IndexOf("## Values", StringComparison.Ordinal)..];
        var end = section.IndexOf("\n## ", 3, StringComparison.Ordinal);
        section = end < 0 ? section : section[..end];
        return ValueRow().Matches(section).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^\| `([A-Za-z0-9_.]+)` \|", RegexOptions.Multiline)]
    private static partial Regex ValueRow();
}
