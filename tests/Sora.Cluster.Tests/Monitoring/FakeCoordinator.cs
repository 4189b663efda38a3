using System.Diagnostics;
using System.Text.Json;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// fake-coordinator.mjs as a child process: the dashboard's files and a simulated job behind the JSON API, so the page
/// is tested in the browser in seconds, including what a live job rarely shows on cue (a restart, a straggler, an
/// expired session).
/// </summary>
internal sealed class FakeCoordinator : IDisposable
{
    private readonly Process _process;

    private FakeCoordinator(Process process, string loginUrl)
    {
        _process = process;
        LoginUrl = loginUrl;
    }

    /// <summary>The one-time login link.</summary>
    public string LoginUrl { get; }

    /// <summary>Starts it with <paramref name="ranks"/> ranks, whose sessions expire after <paramref name="sessionSeconds"/>.</summary>
    public static async Task<FakeCoordinator> StartAsync(int ranks, int sessionSeconds = 3600)
    {
        var process = DashboardCheck.StartNode("fake-coordinator.mjs", "--ranks", $"{ranks}", "--session-seconds", $"{sessionSeconds}");
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
                ?? throw new InvalidOperationException($"fake-coordinator.mjs exited before it listened:\n{await errors}");
            using var ready = JsonDocument.Parse(first);
            return new FakeCoordinator(process, ready.RootElement.GetProperty("loginUrl").GetString()!);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
