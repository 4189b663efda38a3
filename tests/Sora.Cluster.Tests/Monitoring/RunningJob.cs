using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sora.Checkout;
using Sora.Tests.Common;
using Xunit;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>The tests that watch one running job share it: starting a job takes seconds, and the suite runs on two cores.</summary>
[CollectionDefinition(Name)]
public sealed class RunningJobCollection : ICollectionFixture<RunningJob>
{
    public const string Name = "running job";
}

/// <summary>
/// A real job for the monitoring tests: <c>sora launch</c> with two ranks on this machine, a tiny model that trains far
/// longer than the tests run (they stop it), held-out loss, a checkpoint and a sample video every few steps, so that
/// every panel and metric has data. Its API address comes from what launch prints.
/// </summary>
public sealed partial class RunningJob : IAsyncLifetime
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly StringBuilder _output = new();
    private Process? _process;

    public RunningJob()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"sora-monitoring-{Environment.ProcessId}-{Guid.NewGuid():N}"[..44]);
        System.IO.Directory.CreateDirectory(Directory);
        TokenFile = Path.Combine(Directory, "token");
        File.WriteAllText(TokenFile, Token);
    }

    public int Ranks { get; } = 2;

    /// <summary>The job's token (also in <see cref="TokenFile"/>).</summary>
    public string Token { get; } = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    public string TokenFile { get; }

    public string Directory { get; }

    /// <summary>The coordinator's API: http://127.0.0.1:PORT.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>A client of the API with the bearer token.</summary>
    public HttpClient Client { get; private set; } = new();

    /// <summary>Where tests keep what a person may want to look at afterwards (screenshots): artifacts/test-results in the repository.</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var path = SourceCheckout.PathOf("artifacts", "test-results");
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>What <c>sora launch</c> printed so far.</summary>
    public string Output => SoraProcess.Snapshot(_output);

    public async Task InitializeAsync()
    {
        var path = SoraProcess.WriteTinyJob(Directory, ditSteps: 100_000, vaeSteps: 6, extraYaml: """
            checkpoint:
              every: 25
              keep_last: 2
            fault:
              max_restarts: 0
            """);
        var job = File.ReadAllText(path).Replace("prompts: []", "prompts: [\"a red circle moves right\"]\n  frames: 4\n  steps: 4", StringComparison.Ordinal)
            .Replace("ema_decay: 0.99", "ema_decay: 0.99\n  eval_every: 20\n  sample_every: 20", StringComparison.Ordinal);
        File.WriteAllText(path, job);
        var (program, arguments) = SoraProcess.Command("launch", Path.Combine(Directory, "job.yaml"), "--nproc-per-node", Ranks.ToString(CultureInfo.InvariantCulture));
        var start = new ProcessStartInfo(program) { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SORA_JOB_TOKEN"] = Token;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        SoraProcess.WaitFor(() => DashboardLine().Success || _process.HasExited, TimeSpan.FromMinutes(2), () => Output);
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"sora launch exited ({_process.ExitCode}) before its API listened:\n{Output}");
        }

        BaseUrl = DashboardLine().Groups["base"].Value;
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await WaitForStepAsync(1, TimeSpan.FromMinutes(3));
    }

    /// <summary>The job's /metrics text.</summary>
    public Task<string> MetricsAsync() => Client.GetStringAsync("metrics");

    /// <summary>A fresh one-time dashboard link (absolute).</summary>
    public async Task<string> LoginLinkAsync()
    {
        using var response = await Client.PostAsync("api/dashboard-link", null);
        response.EnsureSuccessStatusCode();
        var link = await response.Content.ReadFromJsonAsync<JsonElement>(s_json);
        return BaseUrl + link.GetProperty("url").GetString();
    }

    /// <summary>The DiT step the job reports (0 before the DiT stage).</summary>
    public async Task<long> DiTStepAsync()
    {
        var job = await Client.GetFromJsonAsync<JsonElement>("api/job", s_json);
        return job.GetProperty("stage").GetString() == "dit" ? job.GetProperty("step").GetInt64() : 0;
    }

    /// <summary>Waits until the DiT stage reaches <paramref name="step"/> (a hang guard, not a speed check).</summary>
    public async Task WaitForStepAsync(long step, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"the job ended ({_process.ExitCode}) before DiT step {step}:\n{Output}");
            }

            try
            {
                if (await DiTStepAsync() >= step)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not serving yet.
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"DiT step {step} not reached within {timeout}:\n{Output}");
            }

            await Task.Delay(250);
        }
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private Match DashboardLine() => DashboardPattern().Match(Output);

    [GeneratedRegex(@"dashboard: (?<base>http://[0-9.]+:[0-9]+)/login\?code=[0-9a-f]+")]
    private static partial Regex DashboardPattern();
}
