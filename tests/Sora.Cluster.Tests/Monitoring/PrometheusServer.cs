using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sora.Checkout;
using Sora.Cluster.Tests.Harness;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>One sample of an instant query: the series' labels and its value.</summary>
internal sealed record PromSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus (Debian's 2.42) on a free loopback port, with its own storage in a temporary folder, scraping one
/// target with the configuration cluster/prometheus-config.sh renders from cluster/prometheus.yml. Never the package's
/// system service. Its log is kept for failure messages.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        BaseUrl = $"http://127.0.0.1:{port}";
        _http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string BaseUrl { get; }

    /// <summary>The temporary folder with the rendered configuration and the TSDB.</summary>
    public string Directory { get; }

    public string ConfigFile => Path.Combine(Directory, "prometheus.yml");

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Renders the shipped configuration for <paramref name="target"/> with <paramref name="tokenFile"/>, starts Prometheus on it and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string target, string tokenFile, string interval = "1s")
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sora-prometheus-").FullName;
        var config = Render(target, tokenFile, interval);
        File.WriteAllText(Path.Combine(directory, "prometheus.yml"), config);
        var port = LoopbackPort.Free();
        var info = new ProcessStartInfo(PrometheusPackage.Prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={Path.Combine(directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--storage.tsdb.retention.time=1h",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var server = new PrometheusServer(Process.Start(info)!, directory, port);
        server._process.OutputDataReceived += server.Append;
        server._process.ErrorDataReceived += server.Append;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>cluster/prometheus.yml for <paramref name="target"/>, <paramref name="tokenFile"/> and <paramref name="interval"/>, through cluster/prometheus-config.sh.</summary>
    public static string Render(string target, string tokenFile, string interval)
    {
        var script = SourceCheckout.PathOf("cluster", "prometheus-config.sh");
        var result = ToolProcess.Run(NetnsScript.Bash ?? "bash", [script, "--target", target, "--token-file", tokenFile, "--interval", interval], TimeSpan.FromSeconds(30),
            "cluster/prometheus-config.sh");
        return result.ExitCode == 0 ? result.Output : throw new InvalidOperationException($"cluster/prometheus-config.sh failed: {result}");
    }

    /// <summary>An instant query through the HTTP API (<c>/api/v1/query</c>).</summary>
    public async Task<IReadOnlyList<PromSample>> QueryAsync(string promql)
    {
        var body = await _http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query '{promql}' failed: {body}");
        }

        var data = root.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector")
        {
            throw new InvalidOperationException($"query '{promql}' is not an instant vector: {body}");
        }

        return data.GetProperty("result").EnumerateArray()
            .Select(r => new PromSample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>
    /// Polls <paramref name="promql"/> until <paramref name="done"/> holds for its result. The first scrape lands only
    /// after ~5-6 s even at a 1 s interval, so this polls rather than sleeps; past <paramref name="timeout"/> it fails
    /// with the last result, the scrape targets' state and Prometheus's log.
    /// </summary>
    public async Task<IReadOnlyList<PromSample>> WaitForAsync(string promql, Func<IReadOnlyList<PromSample>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<PromSample> last = [];
        while (true)
        {
            last = await QueryAsync(promql);
            if (done(last))
            {
                return last;
            }

            if (clock.Elapsed > timeout)
            {
                var result = string.Join("; ", last.Select(s => $"{{{string.Join(",", s.Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {s.Value}"));
                throw new TimeoutException($"'{promql}' did not return what was awaited within {timeout.TotalSeconds:0} s (last: [{result}])\n" +
                                           $"targets: {await TargetsAsync()}\nprometheus log:\n{Log}");
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited ({_process.ExitCode}) while waiting for '{promql}'\nprometheus log:\n{Log}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The active targets' health and last scrape error (<c>/api/v1/targets</c>), for failure messages.</summary>
    public async Task<string> TargetsAsync()
    {
        try
        {
            using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/targets"));
            return string.Join("; ", document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => $"{t.GetProperty("scrapeUrl").GetString()} {t.GetProperty("health").GetString()} '{t.GetProperty("lastError").GetString()}'"));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException)
        {
            return $"(unavailable: {e.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited ({_process.ExitCode}) before it was ready\nprometheus log:\n{Log}");
            }

            try
            {
                if ((await _http.GetAsync("/-/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"prometheus was not ready within {ReadyTimeout.TotalSeconds:0} s\nprometheus log:\n{Log}");
            }

            await Task.Delay(100);
        }
    }

    private void Append(object? sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_log)
            {
                _log.AppendLine(e.Data);
            }
        }
    }
}
