using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Hosting;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Api;

/// <summary>
/// A real coordinator (Akka remoting on loopback, Kestrel, a ledger over a checkpoint directory): the HTTP API's bearer
/// token, what it shows, a graceful stop, dashboard links and sessions, an agent process with the wrong token refused by
/// name, and processes that join the cluster without the token.
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
    private string _link = "";

    public async Task InitializeAsync()
    {
        var started = new TaskCompletionSource<string>();
        var spec = new JobSpec("api-test", "name: api-test", [("train.batch_size", 8)], 100, new FaultPolicy(MinNodes: 2, MaxNodes: 2), [],
            JobKey.FromToken(Token), "1.0", "127.0.0.1", 1);
        var ledger = new StoreCheckpointLedger(new Sora.Checkpoint.Stores.LocalDirectoryStore(_directory), "dit/checkpoints");
        _run = ControlPlaneHost.RunCoordinatorAsync(new CoordinatorEndpoints("127.0.0.1", _akkaPort, "127.0.0.1", "127.0.0.1", 0), spec, ledger, Token, new Events(_events), null,
            s =>
            {
                _link = s.DashboardLink;
                started.SetResult(s.Url);
            }, _stop.Token);
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
        body.Should().NotContain(Token);
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

    [Fact]
    public async Task A_dashboard_link_opens_one_session_that_reads_but_can_neither_mint_links_nor_stop_the_job()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var browser = new HttpClient(handler) { BaseAddress = new Uri(_api) };
        (await browser.GetAsync(new Uri(_link))).StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await browser.GetAsync("/api/status")).StatusCode.Should().Be(HttpStatusCode.OK, "the session reads");

        using var other = new HttpClient { BaseAddress = new Uri(_api) };
        (await other.GetAsync(new Uri(_link))).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the link in the launch log is good once");
        (await browser.PostAsync("/api/dashboard-link", null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a session cannot mint itself new links");
        (await browser.PostAsync("/api/stop", null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var client = Authorized();
        (await client.PostAsync("/api/dashboard-link", null)).StatusCode.Should().Be(HttpStatusCode.OK, "the bearer token mints links (sora dashboard)");
        _run!.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task A_process_that_joins_the_cluster_without_the_token_can_neither_stop_the_job_nor_report_a_worker_exited()
    {
        var seed = $"akka.tcp://sora@127.0.0.1:{_akkaPort}";

        // One that speaks Akka's default JSON: any message type it names is refused by the coordinator's serializer.
        using (var plain = await JoinAsync(seed, ""))
        {
            var coordinator = plain.ActorSelection(seed + "/user/coordinator");
            coordinator.Tell(new StopJob("intruder"));
            coordinator.Tell(new WorkerExited("host1", 1, 0, 1, false, "", ""));
            await plain.Terminate();
        }

        // One that runs this very software, without the token: what it seals does not authenticate, and a replayed registration opens nothing.
        using var informed = await JoinAsync(seed, ControlPlaneSerializer.Hocon);
        var selection = informed.ActorSelection(seed + "/user/coordinator");
        var guess = JobKey.FromToken("not-the-token");
        selection.Tell(guess.Commands(SessionSide.Agent).Seal(new StopJob("intruder")));
        selection.Tell(guess.Session(SessionSide.Agent, "host1", JobKey.NewNonce(), "a-session").Seal(new WorkerExited("host1", 1, 0, 1, false, "", "")));
        await WaitForAsync(() => EventsSoFar().Any(e => e.Contains("dropped a message that did not authenticate", StringComparison.Ordinal)));
        await informed.Terminate();

        using var client = Authorized();
        using var status = JsonDocument.Parse(await client.GetStringAsync("/api/status"));
        status.RootElement.GetProperty("state").GetString().Should().Be(JobStates.Rendezvous, "nothing the intruders sent changed the job");
        _run!.IsCompleted.Should().BeFalse();
    }

    /// <summary>An actor system that joins the coordinator's cluster as an agent node would (same cluster settings), with <paramref name="extraHocon"/>.</summary>
    private static async Task<ActorSystem> JoinAsync(string seed, string extraHocon)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = OFF
            akka.stdout-loglevel = OFF
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = ["{{seed}}"]
            akka.cluster.roles = [agent]
            akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            akka.cluster.split-brain-resolver.active-strategy = keep-oldest
            akka.cluster.split-brain-resolver.keep-oldest.role = coordinator
            akka.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
            akka.cluster.split-brain-resolver.down-all-when-unstable = off
            {{extraHocon}}
            """);
        var system = ActorSystem.Create("sora", config);
        var up = new TaskCompletionSource();
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(up.SetResult);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return system;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within 30 s");
            await Task.Delay(100);
        }
    }

    private List<string> EventsSoFar()
    {
        lock (_events)
        {
            return [.. _events];
        }
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
