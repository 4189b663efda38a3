using System.Diagnostics;
using Sora.Checkout;

namespace Sora.Data.Tests.Support;

/// <summary>
/// Runs the Node.js peer scripts (tests/Sora.Data.Tests/Parquet/Peers/*.mjs, copied next to the test assembly) with the
/// npm packages that scripts/bootstrap.sh installs into &lt;repo&gt;/tools/node/node_modules. Missing Node or packages fail
/// the test with a message that says how to install them; nothing is skipped.
/// </summary>
internal static class NodePeer
{
    private static readonly Lazy<string> ModulesDirectory = new(FindModules);

    /// <summary>Runs <c>node &lt;script&gt; args...</c> and returns its standard output; fails on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        var scriptPath = Path.Combine(AppContext.BaseDirectory, "Parquet", "Peers", script);
        File.Exists(scriptPath).Should().BeTrue($"the peer script {scriptPath} is copied to the test output");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(scriptPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SORA_NODE_MODULES"] = ModulesDirectory.Value;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("Node.js ('node') is not installed; run scripts/bootstrap.sh to install it and the Parquet test peers.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"node {script} {string.Join(' ', args)} ran longer than 2 minutes");
            }

            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"node {script} {string.Join(' ', args)} exited with {process.ExitCode}: {stderr.Result}");
            }

            return stdout.Result;
        }
    }

    private static string FindModules()
    {
        var modules = SourceCheckout.PathOf("tools", "node", "node_modules");
        foreach (var package in new[] { "@duckdb/node-api", "hyparquet", "hyparquet-writer" })
        {
            if (!Directory.Exists(Path.Combine(modules, package)))
            {
                throw new InvalidOperationException($"the npm package {package} is missing from {modules}; run scripts/bootstrap.sh to install the Parquet test peers.");
            }
        }

        return modules;
    }
}
