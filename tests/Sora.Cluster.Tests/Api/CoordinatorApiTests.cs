using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Hosting;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Api;

/// <summary>
/// A real coordinator (Akka remoting on loopback, Kestrel, a ledger over a checkpoint directory): the HTTP API's bearer
/// token, what it shows, a graceful stop, and an agent process with the wrong token refused by name.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class CoordinatorApiTests : IAsyncLifetime, IDisposable
{
    private const string Token = "3f9c2a77d1e04b6b8f5a0c1d2e3f4a5b";

    private readonly string _directory = Directory.CreateTempSubdirectory("sora-api-").FullName;
    private readonly List<string> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly int _akkaPort = LoopbackPort.Free();
    private Task<(bool Success, string Message)>? _run;
    private string _api = "";

    public async Task InitializeAsync()
    {
        var started = new TaskCompletionSource<string>();
        var spec = new JobSpec("api-test", "name: api-test", [("train.batch_size", 8)], 100, new FaultPolicy(MinNodes: 2, MaxNodes: 2), [],
            JobCoordinator.TokenDigest(Token), "1.0", "127.0.0.1", 1);
        var ledger = new StoreCheckpointLedger(new Sora.Checkpoint.Stores.LocalDirectoryStore(_directory), "dit/checkpoints");
        _run = ControlPlaneHost.RunCoordinatorAsync(new CoordinatorEndpoints("127.0.0.1", _akkaPort, "127.0.0.1", "127.0.0.1", 0), spec, ledger, Token, new Events(_events), null,
            s => started.SetResult(s.Url), _stop.Token);
        _api = await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(60));
        }

        Directory.Delete(_directory, recursive: true);
    }

    public void Dispose() => _stop.Dispose();

    [Fact]
    public async Task Requests_without_the_job_token_get_401_and_healthz_needs_none()
    {
        using var client = new HttpClient { BaseAddress = new Uri(_api) };
        (await client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync("/api/status")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await client.PostAsync("/api/stop", null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token[..^1] + "0");
        (await client.GetAsync("/api/status")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _run!.IsCompleted.Should().BeFalse("refused requests change nothing");
    }

    [Fact]
    public async Task The_status_shows_the_job_and_never_the_token()
    {
        using var client = Authorized();
        var body = await client.GetStringAsync("/api/status");
        using var status = JsonDocument.Parse(body);
        status.RootElement.GetProperty("job").GetString().Should().Be("api-test");
        status.RootElement.GetProperty("state").GetString().Should().Be(JobStates.Rendezvous);
        status.RootElement.GetProperty("message").GetString().Should().Contain("waiting for nodes: 0 of at least 2");
        body.Should().NotContain(Token).And.NotContain(JobCoordinator.TokenDigest(Token));
        lock (_events)
        {
            _events.Should().NotContain(e => e.Contains(Token, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task An_agent_with_the_wrong_token_is_refused_and_exits_naming_the_reason()
    {
        var (program, arguments) = SoraProcess.Command("agent", "--coordinator", $"127.0.0.1:{_akkaPort}", "--node", "intruder");
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SORA_JOB_TOKEN"] = "not-the-job-token";
        using var agent = System.Diagnostics.Process.Start(start)!;
        var output = agent.StandardOutput.ReadToEndAsync();
        (await Task.WhenAny(agent.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)))).Should().NotBeNull();
        agent.HasExited.Should().BeTrue("a refused agent exits instead of waiting");
        agent.ExitCode.Should().Be(2);
        (await output).Should().Contain("wrong job token").And.NotContain("not-the-job-token");
        using var client = Authorized();
        (await client.GetStringAsync("/api/status")).Should().NotContain("intruder", "a refused agent never joins the job");
    }

    [Fact]
    public async Task A_stop_through_the_api_ends_a_job_that_has_no_round_yet()
    {
        using var client = Authorized();
        var answer = await client.PostAsync("/api/stop", null);
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        var (success, message) = await _run!.WaitAsync(TimeSpan.FromSeconds(30));
        success.Should().BeTrue();
        message.Should().Contain("stopped on request before a round ran");
    }

    private HttpClient Authorized()
    {
        var client = new HttpClient { BaseAddress = new Uri(_api) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    private sealed class Events(List<string> events) : IJobEvents
    {
        public void Report(string message)
        {
            lock (events)
            {
                events.Add(message);
            }
        }
    }
}
