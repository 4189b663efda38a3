using System.Text.RegularExpressions;
using Sora.Checkout;
using Sora.Distributed.Configuration;

namespace Sora.Distributed.Tests.Configuration;

/// <summary>docs/configuration.md lists exactly the keys the job's config records bind.</summary>
public partial class ConfigurationDocsTests
{
    // Documents that together reach every branch of the readers: all defaults, each shipped job, and the
    // Parquet branch without generation (where data.path is read and sizes/lengths are refused).
    private static IEnumerable<(string Yaml, string File)> Documents()
    {
        yield return ("{}", "empty.yaml");
        yield return ("data: {source: parquet, path: shards}\n", "parquet.yaml");
        foreach (var file in Directory.GetFiles(SourceCheckout.PathOf("configs"), "*.yaml").Order(StringComparer.Ordinal))
        {
            yield return (File.ReadAllText(file), file);
        }
    }

    private static SortedSet<string> BoundKeys()
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (yaml, file) in Documents())
        {
            var root = YamlSection.Parse(yaml, file);
            JobConfig.Bind(root, yaml);
            keys.UnionWith(root.KeyPathsAsked());
        }

        return keys;
    }

    private static SortedSet<string> DocumentedKeys() =>
        new(KeyRow().Matches(File.ReadAllText(SourceCheckout.PathOf("docs", "configuration.md"))).Select(m => m.Groups[1].Value), StringComparer.Ordinal);

    [Fact]
    public void Every_key_the_config_records_bind_is_documented()
    {
        var bound = BoundKeys();
        bound.Should().Contain(["name", "data.batching.token_budget", "train.mixed_precision", "vae.train.ema_decay", "sampling.prompts"], "the probe reaches nested sections and keys read only when present");
        bound.Except(DocumentedKeys()).Should().BeEmpty("docs/configuration.md needs a row for each of these keys");
    }

    [Fact]
    public void Every_documented_key_is_bound_by_a_config_record()
    {
        DocumentedKeys().Except(BoundKeys()).Should().BeEmpty("docs/configuration.md lists keys no config record reads");
    }

    [Fact]
    public void A_key_only_the_DiT_stage_takes_is_not_bound_for_the_VAE()
    {
        // The probe follows the readers, not the record types: vae.train shares StageConfig but refuses mixed_precision.
        BoundKeys().Should().NotContain("vae.train.mixed_precision");
        var act = () => JobConfig.Parse("vae:\n  train:\n    mixed_precision: bf16\n", "job.yaml");
        act.Should().Throw<ConfigException>().WithMessage("*vae.train.mixed_precision: unknown key*");
    }

    [GeneratedRegex(@"^\| `([a-z_]+(?:\.[a-z_]+)*)` \|", RegexOptions.Multiline)]
    private static partial Regex KeyRow();
}
