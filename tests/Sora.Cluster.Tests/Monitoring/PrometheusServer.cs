using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sora.Checkout;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;
using Sora.Tools;
using Sora.Netns;

namespace Sora.Cluster.Tests.Monitoring;

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

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Api = new PrometheusApi($"http://127.0.0.1:{port}", () => _process.HasExited
            ? $"prometheus exited ({_process.ExitCode})\nprometheus log:\n{Log}"
            : $"prometheus log:\n{Log}");
    }

    /// <summary>Its HTTP API, whose failures carry its log.</summary>
    public PrometheusApi Api { get; }

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
        var result = ToolProcess.Run(NetnsScript.Bash ?? "bash", [script, "--target", target, "--token-file", tokenFile, "--interval", interval], timeout: TimeSpan.FromSeconds(30));
        return result.ExitCode == 0 ? result.StandardOutput : throw new InvalidOperationException($"cluster/prometheus-config.sh failed: {result}");
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
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

            if (await Api.IsReadyAsync())
            {
                return;
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
