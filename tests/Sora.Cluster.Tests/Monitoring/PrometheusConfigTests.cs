using Sora.Checkout;
using Sora.Tests.Common;
using Sora.Tools;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>cluster/prometheus.yml as shipped and as cluster/prometheus-config.sh renders it, checked by promtool.</summary>
public sealed class PrometheusConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-prometheus-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_rendered_configuration_scrapes_the_target_with_the_token_file_and_promtool_accepts_it()
    {
        var token = Path.Combine(_directory, "token");
        File.WriteAllText(token, "secret");
        var config = Path.Combine(_directory, "prometheus.yml");

        File.WriteAllText(config, PrometheusServer.Render("10.1.2.3:8080", token, "1s"));

        var text = File.ReadAllText(config);
        text.Should().Contain("- targets: ['10.1.2.3:8080']").And.Contain($"credentials_file: '{token}'").And.Contain("type: Bearer")
            .And.Contain("metrics_path: /metrics").And.Contain("scrape_interval: 1s").And.Contain("scrape_timeout: 1s");
        text.Should().NotContain("secret", "the token stays in its file");
        var check = ToolProcess.Run(PrometheusPackage.Promtool, ["check", "config", config], timeout: TimeSpan.FromSeconds(30));
        check.ExitCode.Should().Be(0, check.ToString());
    }

    [Fact]
    public void The_shipped_file_scrapes_every_5_seconds_and_the_renderer_refuses_a_relative_token_file()
    {
        File.ReadAllText(SourceCheckout.PathOf("cluster", "prometheus.yml")).Should().Contain("scrape_interval: 5s").And.Contain("credentials_file:");
        var script = SourceCheckout.PathOf("cluster", "prometheus-config.sh");

        var relative = ToolProcess.Run("bash", [script, "--target", "127.0.0.1:8080", "--token-file", ".sora/token"], timeout: TimeSpan.FromSeconds(30));

        relative.ExitCode.Should().Be(2);
        relative.StandardError.Should().Contain("--token-file must be an absolute path");
    }
}
