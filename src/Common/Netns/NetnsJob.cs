using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Sora.Checkpoint.Stores;
using Sora.Cluster.Agent;
using Sora.Data.Storage;

namespace Sora.Netns;

/// <summary>
/// A job run by real <c>sora</c> processes on a <see cref="NetnsCluster"/>: a coordinator (<c>sora coordinator</c> on host 0,
/// or <c>sora launch</c> on a node, which also runs that node's agent) and <c>sora agent</c>s on other hosts. Every
/// process runs in <see cref="Directory"/>, the job's working directory. What the multi-process tests and
/// <c>sora bench recovery</c>/<c>goodput</c> run.
/// </summary>
/// <remarks>
/// Two modes. Shared disk: every host sees the same <see cref="Directory"/>, and the job's store is the directory
/// <c>run/checkpoints</c> in it. Private disks: hosts share nothing but the store, as separate machines would: each host
/// has its own <see cref="Directory"/> (empty at the start; <see cref="NetnsCluster.PrivatePath"/> is the root namespace's
/// view of a host's copy), and the store is a prefix of a container in <see cref="Azurite"/>, running on
/// <see cref="StorageHost"/> and reached by every process through <c>AZURE_STORAGE_CONNECTION_STRING</c>.
/// </remarks>
internal sealed class NetnsJob : IAsyncDisposable
{
    public const int AkkaPort = 29400;

    /// <summary>The coordinator's HTTP API port (on the host it runs on).</summary>
    public const int ApiPort = 8080;

    /// <summary>The host Azurite runs on with private disks: host 0 (killing a node's host leaves the store up).</summary>
    public const int StorageHost = 0;

    /// <summary>The Azurite container of the jobs with private disks (each job a prefix in it).</summary>
    public const string Container = "sora";

    /// <summary>The name of the DiT stage's <c>latest</c> pointer in the store.</summary>
    public const string LatestPointer = "dit/checkpoints/latest";

    /// <summary>The final DiT weights in the store (the run's outputs go to <c>run/</c> when the job ends).</summary>
    public const string FinalWeightsObject = "run/dit.safetensors";

    private readonly List<HostProcess> _agents = [];
    private readonly List<HostProcess> _coordinators = [];
    private readonly Func<string[], (string FileName, string[] Arguments)> _sora;
    private int _coordinatorHost;

    private NetnsJob(NetnsCluster cluster, string directory, ClusterAzurite? azurite, string store, Func<string[], (string, string[])> sora)
    {
        Cluster = cluster;
        Directory = directory;
        Azurite = azurite;
        Store = store;
        _sora = sora;
    }

    public NetnsCluster Cluster { get; }

    /// <summary>The job's working directory (the same path on every host; each host's own with private disks).</summary>
    public string Directory { get; }

    /// <summary>The job's YAML (on host 0's disk with private disks; <see cref="StartLaunch"/> copies it to the launch's host).</summary>
    public string JobFile => Path.Combine(Directory, "job.yaml");

    /// <summary>The job's <c>output:</c> directory (with private disks, each host writes its own).</summary>
    public string Output => Path.Combine(Directory, "run");

    /// <summary>True when each host has its own <see cref="Directory"/> and the store is <see cref="Azurite"/>.</summary>
    public bool PrivateDisks => Azurite is not null;

    /// <summary>The store the hosts share with private disks (null with a shared disk).</summary>
    public ClusterAzurite? Azurite { get; }

    /// <summary>The job's <c>checkpoint.store</c>: <c>az://sora/job-XXXXXXXX</c> with private disks, else the directory <c>run/checkpoints</c>.</summary>
    public string Store { get; }

    /// <summary>The job's token (the agents' credential and the API's bearer token).</summary>
    public string Token { get; } = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    /// <summary>The coordinator (or the launch process hosting it) started last.</summary>
    public HostProcess? Coordinator => _coordinators.Count > 0 ? _coordinators[^1] : null;

    /// <summary>Every coordinator or launch process started, in order (their outputs are the job's events).</summary>
    public IReadOnlyList<HostProcess> Coordinators => _coordinators;

    public IReadOnlyList<HostProcess> Agents => _agents;

    /// <summary>The final DiT weights on the shared disk (with private disks the store holds them as <see cref="FinalWeightsObject"/>).</summary>
    public string FinalWeights => Path.Combine(Output, "dit.safetensors");

    /// <summary>A cluster and the job file; with private disks, each host's own working directory and Azurite on <see cref="StorageHost"/> as the store.</summary>
    /// <param name="hosts">Hosts in the cluster (host 0 holds the job file, and Azurite with private disks).</param>
    /// <param name="privateDisks">Whether hosts share nothing but the store.</param>
    /// <param name="sora">The program and arguments that run <c>sora</c> with the arguments given.</param>
    /// <param name="writeJob">Writes the job file (its path, the store to name, the output directory to name).</param>
    /// <param name="directoryStore">With private disks: name a directory of the job's working directory as the store anyway (each host
    /// has its own: what the shared-directory proof must refuse), and start no Azurite.</param>
    public static async Task<NetnsJob> CreateAsync(int hosts, bool privateDisks, Func<string[], (string, string[])> sora, Action<string, string, string> writeJob,
        bool directoryStore = false)
    {
        ArgumentNullException.ThrowIfNull(sora);
        ArgumentNullException.ThrowIfNull(writeJob);
        var directory = Path.Combine(Path.GetTempPath(), $"sora-cluster-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        System.IO.Directory.CreateDirectory(directory);
        var cluster = NetnsCluster.Create(hosts, privateDirectories: privateDisks ? [directory] : null);
        try
        {
            NetnsJob job;
            if (privateDisks && !directoryStore)
            {
                // Azurite keeps its blobs on the storage host's own disk: a restarted Azurite still has them.
                var azurite = await cluster.StartAzuriteAsync(StorageHost, Path.Combine(directory, "azurite")).ConfigureAwait(false);
                job = new NetnsJob(cluster, directory, azurite, $"{AzureBlobLocation.Scheme}{Container}/job-{Guid.NewGuid().ToString("N")[..8]}", sora);
            }
            else
            {
                job = new NetnsJob(cluster, directory, null, Path.Combine(directory, "run", "checkpoints"), sora);
            }

            // The coordinator's host is where the job file must be.
            writeJob(privateDisks ? cluster.PrivatePath(0, job.JobFile) : job.JobFile, job.Store, job.Output);
            return job;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the coordinator on host 0.</summary>
    public HostProcess StartCoordinator(string nodes, string parallel = "fsdp")
    {
        var address = Cluster.Address(0);
        var process = StartSora(0, $"coordinator-{DateTime.UtcNow:HHmmssfff}.log", "coordinator", JobFile, "--listen", $"{address}:{AkkaPort}", "--api-listen", $"{address}:{ApiPort}",
            "--store-port", "29401", "--nnodes", nodes, "--parallel", parallel);
        _coordinatorHost = 0;
        _coordinators.Add(process);
        return process;
    }

    /// <summary>
    /// Starts <c>sora launch</c> on <paramref name="host"/>: the coordinator (at that host's address) and that host's agent
    /// with <paramref name="processes"/> workers in one process, as a user starts a job from one of its nodes; agents on
    /// other hosts join it (<see cref="StartAgent"/> with the coordinator's host). The job file is copied to the host's disk first.
    /// </summary>
    public HostProcess StartLaunch(int host, string nodes, int processes, string parallel = "fsdp")
    {
        if (PrivateDisks && host != 0)
        {
            File.Copy(Cluster.PrivatePath(0, JobFile), Cluster.PrivatePath(host, JobFile), overwrite: true);
        }

        var address = Cluster.Address(host);
        var process = StartSora(host, $"launch-{DateTime.UtcNow:HHmmssfff}.log", "launch", JobFile, "--rdzv-endpoint", $"{address}:{AkkaPort}", "--api-listen", $"{address}:{ApiPort}",
            "--store-port", "29401", "--nnodes", nodes, "--nproc-per-node", Text(processes), "--parallel", parallel);
        _coordinatorHost = host;
        _coordinators.Add(process);
        return process;
    }

    /// <summary>Starts an agent of <paramref name="processes"/> workers on <paramref name="host"/>, joining the coordinator on <paramref name="coordinatorHost"/>.</summary>
    public HostProcess StartAgent(int host, int processes, int coordinatorHost = 0)
    {
        var agent = StartSora(host, $"agent-{host}.log", "agent", "--coordinator", $"{Cluster.Address(coordinatorHost)}:{AkkaPort}", "--nproc-per-node", Text(processes),
            "--node", $"host{host}", "--threads", Text(processes));
        _agents.Add(agent);
        return agent;
    }

    /// <summary>The job's store as this process sees it: the directory store, or the job's prefix in Azurite through the storage host's network. Dispose it if it is <see cref="IDisposable"/>.</summary>
    public ICheckpointStore OpenStore() => Azurite is { } azurite ? azurite.OpenStore(Store) : new LocalDirectoryStore(Store);

    /// <summary>The bytes of the object <paramref name="name"/> in the job's store (<c>dit/checkpoints/latest</c>, <c>run/...</c>), or null when there is none yet.</summary>
    public async Task<byte[]?> ReadStoreObjectAsync(string name)
    {
        var store = OpenStore();
        try
        {
            return await store.ReadAllBytesAsync(name).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>The step a stage's <c>latest</c> names in the store (0: none yet).</summary>
    public async Task<long> LatestStepAsync(string stage = "dit")
    {
        if (await ReadStoreObjectAsync($"{stage}/checkpoints/latest").ConfigureAwait(false) is not { } bytes)
        {
            return 0;
        }

        try
        {
            using var pointer = JsonDocument.Parse(bytes);
            return pointer.RootElement.TryGetProperty("manifest", out var m) && m.ValueKind == JsonValueKind.String ? pointer.RootElement.GetProperty("step").GetInt64() : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    /// <summary>Waits until a checkpoint of <paramref name="stage"/> at or after <paramref name="step"/> is committed.</summary>
    public async Task WaitForCheckpointAsync(long step, TimeSpan timeout, string stage = "dit")
    {
        var clock = Stopwatch.StartNew();
        while (await LatestStepAsync(stage).ConfigureAwait(false) is var latest && latest < step)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"no {stage} checkpoint of step >= {step} within {timeout} (latest: {latest})\ncoordinator:\n{Coordinator?.Tail(40)}");
            }

            if (Coordinator is { HasExited: true })
            {
                throw new InvalidOperationException($"the coordinator exited ({Coordinator.ExitCode}) before {stage} step {step}:\n{Coordinator.Tail(40)}");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The job as the coordinator's API shows it (<c>GET /api/job</c>): its state, stage and step; null while no coordinator
    /// answers (one is being restarted).
    /// </summary>
    public async Task<(string State, string Stage, long Step)?> ProgressAsync()
    {
        try
        {
            if (await ApiAsync("/api/job").ConfigureAwait(false) is not { } text)
            {
                return null;
            }

            using var view = JsonDocument.Parse(text);
            var root = view.RootElement;
            return (root.GetProperty("state").GetString() ?? "", root.GetProperty("stage").GetString() ?? "", root.GetProperty("step").GetInt64());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The body of the coordinator's API at <paramref name="path"/> (<c>/api/job</c>, <c>/metrics</c>), asked with the job's token from
    /// inside the coordinator's host; null while no coordinator answers.
    /// </summary>
    public async Task<string?> ApiAsync(string path)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Cluster.Address(_coordinatorHost)}:{ApiPort}{path}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var response = await Cluster.HttpClient(_coordinatorHost).SendAsync(request).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync().ConfigureAwait(false) : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The pid of the worker process of <paramref name="rank"/> (of this job: its command line names its agent's job file under <see cref="Directory"/>).</summary>
    public int WorkerPid(int rank) => WorkerProcessTable.Find(Directory, rank) ?? throw new InvalidOperationException($"no worker process of rank {rank} is running");

    /// <summary>The worker processes of ranks 0..<paramref name="worldSize"/>-1 that run now.</summary>
    public IReadOnlyList<(int Rank, int Pid)> RunningWorkers(int worldSize) =>
        [.. Enumerable.Range(0, worldSize).Select(rank => (Rank: rank, Pid: WorkerProcessTable.Find(Directory, rank))).Where(w => w.Pid is not null).Select(w => (w.Rank, w.Pid!.Value))];

    /// <summary>Waits until none of this job's worker processes runs (none is left behind).</summary>
    public async Task WaitForNoWorkerAsync(int worldSize, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (RunningWorkers(worldSize) is { Count: > 0 } left)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"worker process(es) {string.Join(", ", left.Select(w => $"{w.Pid} (rank {w.Rank})"))} still run after {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>The host a process runs on: the one whose network namespace it is in (-1: none of the cluster's).</summary>
    public int HostOf(int pid)
    {
        string own;
        try
        {
            own = File.ResolveLinkTarget($"/proc/{pid}/ns/net", returnFinalTarget: false)?.ToString() ?? "";
        }
        catch (IOException)
        {
            return -1;
        }

        for (var host = 0; host < Cluster.HostCount; host++)
        {
            var bound = new FileInfo(Path.Combine(NetnsScript.NetworkNamespaceDirectory, Cluster.Namespace(host)));
            if (bound.Exists && own.Contains(InodeOf(bound.FullName), StringComparison.Ordinal))
            {
                return host;
            }
        }

        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private HostProcess StartSora(int host, string log, params string[] arguments)
    {
        var (program, all) = _sora(arguments);
        return Cluster.Start(host, program, all, ProcessEnvironment(), Path.Combine(Directory, log), Directory);
    }

    /// <summary>The inode of a bound namespace file, as /proc/PID/ns/net links name it (net:[INODE]).</summary>
    private static string InodeOf(string path) => $"[{Sora.Tools.ToolProcess.Run("stat", ["-L", "-c", "%i", path]).StandardOutput.Trim()}]";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private Dictionary<string, string> ProcessEnvironment() => new(Azurite?.Environment ?? new Dictionary<string, string>())
    {
        ["SORA_JOB_TOKEN"] = Token,
        ["CI"] = Environment.GetEnvironmentVariable("CI") ?? "",
    };
}
