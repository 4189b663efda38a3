using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Sora.Checkout;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// Runs <c>dashboard-check.mjs</c> (beside this file in the checkout): Debian's chromium, driven by playwright-core from
/// tools/node, opens the dashboard through a one-time login link and reports what it found as one JSON object.
/// </summary>
internal static class DashboardCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    /// <summary>The script's folder in the checkout (it also holds fake-coordinator.mjs).</summary>
    public static string ScriptDirectory => SourceCheckout.PathOf("tests", "Sora.Cluster.Tests", "Monitoring");

    /// <summary>Opens <paramref name="loginUrl"/> and checks the page; <paramref name="arguments"/> are the script's further options.</summary>
    public static async Task<DashboardCheckResult> RunAsync(string loginUrl, string screenshot, params string[] arguments)
    {
        var output = await NodeAsync("dashboard-check.mjs", ["--login-url", loginUrl, "--screenshot", screenshot, .. arguments]);
        var json = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(line => line.StartsWith('{'))
            ?? throw new InvalidOperationException($"dashboard-check.mjs printed no result:\n{output}");
        return new DashboardCheckResult(JsonDocument.Parse(json).RootElement.Clone(), output);
    }

    /// <summary>Starts <c>node &lt;script in this folder&gt; arguments...</c> with stdout and stderr redirected.</summary>
    public static Process StartNode(string script, params string[] arguments)
    {
        var modules = SourceCheckout.PathOf("tools", "node", "node_modules");
        if (!Directory.Exists(Path.Combine(modules, "playwright-core")))
        {
            throw new InvalidOperationException($"the npm package playwright-core is missing from {modules}; run scripts/bootstrap.sh (it also installs Debian's chromium).");
        }

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(ScriptDirectory, script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException($"node {script} did not start");
    }

    private static async Task<string> NodeAsync(string script, string[] arguments)
    {
        using var process = StartNode(script, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} ran longer than {Limit}:\n{await stderr}");
        }

        // Exit 1 is a failed check, reported in the JSON; anything else is a broken run.
        if (process.ExitCode is not (0 or 1))
        {
            throw new InvalidOperationException($"node {script} exited with {process.ExitCode}:\n{await stderr}\n{await stdout}");
        }

        return new StringBuilder(await stdout).AppendLine(await stderr).ToString();
    }
}

/// <summary>What dashboard-check.mjs found: <c>ok</c>, <c>failures</c>, <c>consoleErrors</c>, and per check what it saw (<c>charts</c>, <c>ranks</c>, <c>videos</c>, <c>updates</c>, <c>notice</c>).</summary>
internal sealed record DashboardCheckResult(JsonElement Json, string Output)
{
    public bool Ok => Json.GetProperty("ok").GetBoolean();

    public IReadOnlyList<string> Failures => [.. Json.GetProperty("failures").EnumerateArray().Select(f => f.GetString()!)];

    public IReadOnlyList<string> ConsoleErrors => [.. Json.GetProperty("consoleErrors").EnumerateArray().Select(f => f.GetString()!)];

    /// <summary>The rank numbers of the rank table's rows, in order.</summary>
    public IReadOnlyList<int> Ranks => [.. Json.GetProperty("ranks").EnumerateArray().Select(r => r.GetProperty("rank").GetInt32())];

    /// <summary>The ranks whose row is flagged as a straggler.</summary>
    public IReadOnlyList<int> Stragglers => [.. Json.GetProperty("ranks").EnumerateArray().Where(r => r.GetProperty("straggler").GetBoolean()).Select(r => r.GetProperty("rank").GetInt32())];

    /// <summary>Points in each chart (loss, throughput, breakdown).</summary>
    public IReadOnlyDictionary<string, int> ChartPoints => Json.GetProperty("charts").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetInt32());

    /// <summary>The best readyState among the sample videos (2: the current frame is decoded; 4: enough to play through).</summary>
    public int BestVideoReadyState => Json.GetProperty("videos").EnumerateArray().Select(v => v.GetProperty("readyState").GetInt32()).DefaultIfEmpty(0).Max();

    public override string ToString() => Json.GetRawText();
}
