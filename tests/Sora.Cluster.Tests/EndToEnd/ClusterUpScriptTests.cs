using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sora.Checkout;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;
using Sora.Cluster.Tests.Harness;
using Sora.Cluster.Tests.Monitoring;
using Sora.Tests.Common;
using Sora.Tools;
using Sora.Netns;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// cluster/up.sh and cluster/down.sh for real: three namespace hosts with private disks, a coordinator, two agents training
/// a tiny job whose store is Azurite on host 0, and a Prometheus scraping the coordinator, reached through the loopback ports
/// up.sh forwards; down.sh leaves no namespace, mount or process behind (the hosts' disks stay), and a second down.sh does
/// nothing.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ClusterUpScriptTests : IDisposable
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(150);

    private readonly string _directory = Directory.CreateTempSubdirectory("sora-up-").FullName;
    private readonly string _name = string.Create(CultureInfo.InvariantCulture, $"sora-{Environment.ProcessId}-up");

    private string State => Path.Combine(_directory, "state");

    public void Dispose()
    {
        // A test that failed half-way still takes its cluster down.
        Script("down.sh", "--name", _name, "--state", State);
        Directory.Delete(_directory, recursive: true);
    }

    [NetnsFact]
    public async Task Up_serves_the_dashboard_a_scraping_prometheus_and_the_store_on_private_disks_and_down_leaves_nothing()
    {
        var job = SoraProcess.WriteTinyJob(_directory, ditSteps: 100_000, vaeSteps: 4);
        var (apiPort, prometheusPort, azuritePort) = (LoopbackPort.Free(), LoopbackPort.Free(), LoopbackPort.Free());
        var (dotnet, sora) = SoraProcess.Command();

        var up = Script("up.sh", "--config", job, "--name", _name, "--state", State, "--api-port", Port(apiPort), "--prometheus-port", Port(prometheusPort),
            "--azurite-port", Port(azuritePort), "--scrape-interval", "1s", "--sora", string.Join(' ', [dotnet, .. sora]));

        up.ExitCode.Should().Be(0, up.ToString());
        up.StandardOutput.Should().Contain($"dashboard:  http://127.0.0.1:{apiPort}/login?code=").And.Contain($"Prometheus: http://127.0.0.1:{prometheusPort}")
            .And.Contain("store:      az://sora/launch-test in Azurite on host 0").And.Contain($"cluster/down.sh --name {_name}");
        var pids = RecordedPids();
        pids.Keys.Should().BeEquivalentTo(["coordinator", "agent-1", "agent-2", "azurite", "prometheus", $"forward-{apiPort}", $"forward-{prometheusPort}", $"forward-{azuritePort}"]);
        File.ReadAllText(Path.Combine(State, "job.yaml")).Should().Contain("checkpoint:\n  store: az://sora/launch-test", "a job that names no store gets a prefix of Azurite's");

        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}") })
        {
            (await http.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
            (await http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        using (var prometheus = new PrometheusApi($"http://127.0.0.1:{prometheusPort}", () => File.ReadAllText(Path.Combine(State, "logs", "prometheus.log"))))
        {
            (await prometheus.QueryAsync("up{job=\"sora\"}")).Should().ContainSingle().Which.Value.Should().Be(1, "up.sh returns once Prometheus has scraped the coordinator");
        }

        // The coordinator fences the job's store when the first round starts: Azurite on host 0, read through the forwarded port.
        var store = CheckpointStores.Open("az://sora/launch-test", AzureCredentialKind.ConnectionString, StoreEnvironment);
        SoraProcess.WaitFor(() => store.GetPropertiesAsync("vae/checkpoints/latest").GetAwaiter().GetResult() is not null, ScriptTimeout,
            () => File.ReadAllText(Path.Combine(State, "logs", "coordinator.log")));

        // Each agent wrote the job it was sent on its own host's disk; the root namespace's working directory stays empty.
        // The fence comes before the round's start reaches the agents, so each may still be writing its copy: wait for both.
        var work = Path.Combine(State, "work");
        SoraProcess.WaitFor(() => Directory.Exists(Disk(1, work, ".sora", "agent-host1")) && Directory.Exists(Disk(2, work, ".sora", "agent-host2")), ScriptTimeout,
            () => string.Join("\n---\n", new[] { "agent-1", "agent-2" }.Select(agent => File.ReadAllText(Path.Combine(State, "logs", agent + ".log")))));
        Directory.Exists(Disk(1, work, ".sora", "agent-host2")).Should().BeFalse();
        Directory.Exists(Disk(2, work, ".sora", "agent-host1")).Should().BeFalse();
        Directory.EnumerateFileSystemEntries(work).Should().BeEmpty();

        var down = Script("down.sh", "--name", _name, "--state", State);

        down.ExitCode.Should().Be(0, down.ToString());
        NetnsScript.ListNamespaces().Should().NotContain(ns => ns.StartsWith(_name + "-", StringComparison.Ordinal));
        Directory.EnumerateFiles(NetnsScript.MountNamespaceDirectory, _name + "*").Should().BeEmpty("down.sh removes the hosts' mount namespaces");
        File.ReadAllText("/proc/self/mountinfo").Should().NotContain($"{NetnsScript.MountNamespaceDirectory}/{_name}-");
        Directory.Exists(Disk(2, work, ".sora", "agent-host2")).Should().BeTrue("the hosts' disks stay for a look until --purge");
        pids.Where(p => IsRunning(p.Value)).Should().BeEmpty("down.sh stops every process up.sh started");
        Listens(apiPort).Should().BeFalse();
        Listens(prometheusPort).Should().BeFalse();
        Listens(azuritePort).Should().BeFalse();
        var again = Script("down.sh", "--name", _name, "--state", State);
        again.ExitCode.Should().Be(0, "down.sh is idempotent: " + again);
    }

    private static ToolResult Script(string script, params string[] arguments) =>
        ToolProcess.Run(NetnsScript.Bash ?? "bash", [SourceCheckout.PathOf("cluster", script), .. arguments], timeout: ScriptTimeout);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    // Where the root namespace sees host i's copy of a path: its disk under STATE/hosts.
    private string Disk(int host, string path, params string[] more) =>
        Path.Combine([Path.Combine(State, "hosts", $"host-{host}") + path, .. more]);

    // up.sh's STATE/store.env, AZURE_STORAGE_CONNECTION_STRING='...' for the store's loopback port, as the variables a process sees.
    private string? StoreEnvironment(string name) =>
        File.ReadAllText(Path.Combine(State, "store.env")).Trim().Split('=', 2) is [var key, var value] && key == name ? value.Trim('\'') : null;

    // up.sh's state: one "NAME PID START-TIME" line per process it started.
    private Dictionary<string, int> RecordedPids() =>
        File.ReadAllLines(Path.Combine(State, "pids")).Select(line => line.Split(' ')).ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));

    // A zombie (dead, its parent not yet told) does not count.
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
