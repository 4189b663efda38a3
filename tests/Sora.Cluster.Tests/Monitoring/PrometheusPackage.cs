using Sora.Cluster.Tests.Harness;
using Sora.Netns;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>The binaries of Debian's prometheus package (2.42), which scripts/bootstrap.sh installs; the tests start their own instances, never its service.</summary>
internal static class PrometheusPackage
{
    public static string Prometheus => Find("prometheus");

    public static string Promtool => Find("promtool");

    private static string Find(string name) =>
        NetnsScript.FindTool(name) ?? throw new InvalidOperationException($"{name} is not installed: run scripts/bootstrap.sh (Debian package prometheus)");
}
