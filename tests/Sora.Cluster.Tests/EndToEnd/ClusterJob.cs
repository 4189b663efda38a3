using System.Globalization;
using System.Text.Json;
using Sora.Cluster.Agent;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// A job run by real processes on a <see cref="NetnsCluster"/>: <c>sora coordinator</c> on host 0 and one
/// <c>sora agent</c> on each other host, with a tiny model (a few VAE and DiT steps, a checkpoint every few steps).
/// </summary>
internal sealed class ClusterJob : IAsyncDisposable
{
    public const int AkkaPort = 29400;

    private readonly List<HostProcess> _agents = [];
    private readonly string _token = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    private ClusterJob(NetnsCluster cluster, string directory)
    {
        Cluster = cluster;
        Directory = directory;
    }

    public NetnsCluster Cluster { get; }

    public string Directory { get; }

    public string JobFile => Path.Combine(Directory, "job.yaml");

    public string Output => Path.Combine(Directory, "run");

    public string LatestPointer => Path.Combine(Output, "checkpoints", "dit", "checkpoints", "latest");

    public HostProcess? Coordinator { get; private set; }

    public IReadOnlyList<HostProcess> Agents => _agents;

    /// <summary>A cluster of <paramref name="hosts"/> hosts (host 0: the coordinator) and the job file.</summary>
    public static ClusterJob Create(int hosts, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 16, int checkpointEvery = 4)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sora-cluster-{System.Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        System.IO.Directory.CreateDirectory(directory);
        var job = new ClusterJob(NetnsCluster.Create(hosts), directory);
        SoraProcess.WriteTinyJob(directory, ditSteps, vaeSteps: 6, extraYaml: string.Create(CultureInfo.InvariantCulture, $"""
            output: {job.Output}
            checkpoint:
              every: {checkpointEvery}
              keep_last: 0
            fault:
              max_restarts: {maxRestarts}
              hang_timeout: {hangTimeout}
              coordinator_timeout: 5
              rendezvous_wait: 2
            """));
        return job;
    }

    /// <summary>A cluster running the job: the coordinator on host 0 and an agent of <paramref name="workersPerHost"/> workers on every other host.</summary>
    public static ClusterJob Start(int hosts, string nodes, int workersPerHost, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 16)
    {
        var job = Create(hosts, maxRestarts, hangTimeout, ditSteps);
        job.StartCoordinator(nodes);
        for (var host = 1; host < hosts; host++)
        {
            job.StartAgent(host, workersPerHost);
        }

        return job;
    }

    /// <summary>Starts the coordinator on host 0.</summary>
    public HostProcess StartCoordinator(string nodes, string parallel = "fsdp")
    {
        var address = Cluster.Address(0);
        var (program, arguments) = SoraProcess.Command("coordinator", JobFile, "--listen", $"{address}:{AkkaPort}", "--api-listen", $"{address}:8080", "--store-port", "29401",
            "--nnodes", nodes, "--parallel", parallel);
        Coordinator = Cluster.Start(0, program, arguments, TokenEnvironment(), Path.Combine(Directory, $"coordinator-{DateTime.UtcNow:HHmmssfff}.log"));
        return Coordinator;
    }

    /// <summary>Starts an agent on <paramref name="host"/>.</summary>
    public HostProcess StartAgent(int host, int processes)
    {
        var (program, arguments) = SoraProcess.Command("agent", "--coordinator", $"{Cluster.Address(0)}:{AkkaPort}", "--nproc-per-node", processes.ToString(CultureInfo.InvariantCulture),
            "--node", $"host{host}", "--threads", processes.ToString(CultureInfo.InvariantCulture));
        var agent = Cluster.Start(host, program, arguments, TokenEnvironment(), Path.Combine(Directory, $"agent-{host}.log"));
        _agents.Add(agent);
        return agent;
    }

    /// <summary>The step the store's <c>latest</c> names (0: none yet).</summary>
    public long LatestStep()
    {
        try
        {
            using var pointer = JsonDocument.Parse(File.ReadAllText(LatestPointer));
            return pointer.RootElement.TryGetProperty("manifest", out var m) && m.ValueKind == JsonValueKind.String ? pointer.RootElement.GetProperty("step").GetInt64() : 0;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return 0;
        }
    }

    /// <summary>Waits until a checkpoint at or after <paramref name="step"/> is committed.</summary>
    public async Task WaitForCheckpointAsync(long step, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (LatestStep() < step)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no checkpoint of step >= {step} within {timeout} (latest: {LatestStep()})\ncoordinator:\n{Coordinator?.Tail(40)}");
            }

            if (Coordinator is { HasExited: true })
            {
                throw new InvalidOperationException($"the coordinator exited ({Coordinator.ExitCode}) before step {step}:\n{Coordinator.Tail(40)}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The pid of the worker process of <paramref name="rank"/> (of this job: its command line names a path under <see cref="Directory"/>).</summary>
    public int WorkerPid(int rank) => WorkerProcessTable.Find(Directory, rank) ?? throw new InvalidOperationException($"no worker process of rank {rank} is running");

    public string FinalWeights => Path.Combine(Output, "dit.safetensors");

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> TokenEnvironment() => new() { ["SORA_JOB_TOKEN"] = _token, ["CI"] = System.Environment.GetEnvironmentVariable("CI") ?? "" };

}
