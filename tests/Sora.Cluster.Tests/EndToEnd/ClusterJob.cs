using System.Globalization;
using System.Text.Json;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;
using Sora.Cluster.Agent;
using Sora.Cluster.Tests.Harness;
using Sora.Tests.Common;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// A job run by real processes on a <see cref="NetnsCluster"/>: <c>sora coordinator</c> on host 0 and one
/// <c>sora agent</c> on each other host, with a tiny model (a few VAE and DiT steps, a checkpoint every few steps).
/// Every process runs in <see cref="Directory"/>, the job's working directory.
/// </summary>
/// <remarks>
/// Two modes. Shared disk (the default): every host sees the same <see cref="Directory"/>, and the job's store is the
/// directory <c>run/checkpoints</c> in it. Private disks (<c>privateDisks: true</c>): hosts share nothing but the store,
/// as separate machines would: <see cref="Directory"/> is each host's own (empty at the start, see
/// <see cref="NetnsCluster.PrivatePath"/> for the test's view of a host's copy), and the store is a container of
/// <see cref="Azurite"/>, running on <see cref="StorageHost"/> and reached by every process through
/// <c>AZURE_STORAGE_CONNECTION_STRING</c>. In both modes the test reads the store with <see cref="ReadStoreObjectAsync"/>.
/// </remarks>
internal sealed class ClusterJob : IAsyncDisposable
{
    public const int AkkaPort = 29400;

    /// <summary>The host Azurite runs on with private disks: host 0, next to the coordinator (killing an agent's host leaves the store up).</summary>
    public const int StorageHost = 0;

    private readonly List<HostProcess> _agents = [];
    private readonly string _token = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    private ClusterJob(NetnsCluster cluster, string directory, ClusterAzurite? azurite, string store)
    {
        Cluster = cluster;
        Directory = directory;
        Azurite = azurite;
        Store = store;
    }

    public NetnsCluster Cluster { get; }

    /// <summary>The job's working directory (the same path on every host; each host's own with private disks).</summary>
    public string Directory { get; }

    /// <summary>The job's YAML, read by the coordinator on host 0 (with private disks it lies on host 0's disk only).</summary>
    public string JobFile => Path.Combine(Directory, "job.yaml");

    /// <summary>The job's <c>output:</c> directory (with private disks, each host writes its own).</summary>
    public string Output => Path.Combine(Directory, "run");

    /// <summary>True when each host has its own <see cref="Directory"/> and the store is <see cref="Azurite"/>.</summary>
    public bool PrivateDisks => Azurite is not null;

    /// <summary>The store the hosts share with private disks (null with a shared disk).</summary>
    public ClusterAzurite? Azurite { get; }

    /// <summary>The job's <c>checkpoint.store</c>: <c>az://sora/job-XXXXXXXX</c> with private disks, else the directory <c>run/checkpoints</c>.</summary>
    public string Store { get; }

    /// <summary>The Azurite container of the jobs with private disks (each job a prefix in it).</summary>
    public const string Container = "sora";

    /// <summary>The name of the DiT stage's <c>latest</c> pointer in the store.</summary>
    public const string LatestPointer = "dit/checkpoints/latest";

    /// <summary>The final DiT weights in the store (the run's outputs go to <c>run/</c> when the job ends).</summary>
    public const string FinalWeightsObject = "run/dit.safetensors";

    public HostProcess? Coordinator { get; private set; }

    public IReadOnlyList<HostProcess> Agents => _agents;

    /// <summary>
    /// The final DiT weights on the shared disk (with private disks, on rank 0's host: see <see cref="NetnsCluster.PrivatePath"/>); in
    /// either mode the store holds them as <see cref="FinalWeightsObject"/> (<see cref="ReadStoreObjectAsync"/>).
    /// </summary>
    public string FinalWeights => Path.Combine(Output, "dit.safetensors");

    /// <summary>
    /// A cluster of <paramref name="hosts"/> hosts (host 0: the coordinator) and the job file; with <paramref name="privateDisks"/>,
    /// each host's own working directory and Azurite on <see cref="StorageHost"/> as the job's store.
    /// </summary>
    /// <param name="generatedData">Whether the job reads a generated Parquet dataset (<c>data.generate</c>, written once into the store by the coordinator) instead of clips made in memory.</param>
    public static async Task<ClusterJob> CreateAsync(int hosts, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 16, int checkpointEvery = 4, bool privateDisks = false,
        int vaeSteps = 6, bool generatedData = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sora-cluster-{System.Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        System.IO.Directory.CreateDirectory(directory);
        var cluster = NetnsCluster.Create(hosts, privateDirectories: privateDisks ? [directory] : null);
        try
        {
            ClusterJob job;
            if (privateDisks)
            {
                // Azurite keeps its blobs on the storage host's own disk: a restarted Azurite still has them.
                var azurite = await cluster.StartAzuriteAsync(StorageHost, Path.Combine(directory, "azurite"));
                // One container, a prefix per job (the layout of docs/checkpoint-format.md under it).
                job = new ClusterJob(cluster, directory, azurite, $"{AzureBlobLocation.Scheme}{Container}/job-{Guid.NewGuid().ToString("N")[..8]}");
            }
            else
            {
                job = new ClusterJob(cluster, directory, null, Path.Combine(directory, "run", "checkpoints"));
            }

            // The coordinator's host is where the job file must be.
            var jobDirectory = privateDisks ? cluster.PrivatePath(0, directory) : directory;
            SoraProcess.WriteTinyJob(jobDirectory, ditSteps, vaeSteps: vaeSteps, dataset: generatedData ? "data/shapes" : null, extraYaml: string.Create(CultureInfo.InvariantCulture, $"""
                output: {job.Output}
                checkpoint:
                  store: {job.Store}
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
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A cluster running the job: the coordinator on host 0 and an agent of <paramref name="workersPerHost"/> workers on every other host.</summary>
    public static async Task<ClusterJob> StartAsync(int hosts, string nodes, int workersPerHost, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 16, bool privateDisks = false,
        int vaeSteps = 6, int checkpointEvery = 4, bool generatedData = false)
    {
        var job = await CreateAsync(hosts, maxRestarts, hangTimeout, ditSteps, checkpointEvery, privateDisks, vaeSteps, generatedData);
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
        Coordinator = Cluster.Start(0, program, arguments, ProcessEnvironment(), Path.Combine(Directory, $"coordinator-{DateTime.UtcNow:HHmmssfff}.log"), Directory);
        return Coordinator;
    }

    /// <summary>Starts an agent on <paramref name="host"/>.</summary>
    public HostProcess StartAgent(int host, int processes)
    {
        var (program, arguments) = SoraProcess.Command("agent", "--coordinator", $"{Cluster.Address(0)}:{AkkaPort}", "--nproc-per-node", processes.ToString(CultureInfo.InvariantCulture),
            "--node", $"host{host}", "--threads", processes.ToString(CultureInfo.InvariantCulture));
        var agent = Cluster.Start(host, program, arguments, ProcessEnvironment(), Path.Combine(Directory, $"agent-{host}.log"), Directory);
        _agents.Add(agent);
        return agent;
    }

    /// <summary>The job's store as the test sees it: the directory store, or the job's prefix in Azurite through the storage host's network. Dispose it if it is <see cref="IDisposable"/>.</summary>
    public ICheckpointStore OpenStore() => Azurite is { } azurite ? azurite.OpenStore(Store) : new LocalDirectoryStore(Store);

    /// <summary>
    /// The bytes of the object <paramref name="name"/> in the job's store (<c>dit/checkpoints/latest</c>, <c>run/...</c>), or null when
    /// there is none yet.
    /// </summary>
    public async Task<byte[]?> ReadStoreObjectAsync(string name)
    {
        var store = OpenStore();
        try
        {
            return await store.ReadAllBytesAsync(name);
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

    /// <summary>The step the store's <c>latest</c> names (0: none yet).</summary>
    public async Task<long> LatestStepAsync()
    {
        if (await ReadStoreObjectAsync(LatestPointer) is not { } bytes)
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

    /// <summary>Waits until a checkpoint at or after <paramref name="step"/> is committed.</summary>
    public async Task WaitForCheckpointAsync(long step, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await LatestStepAsync() is var latest && latest < step)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no checkpoint of step >= {step} within {timeout} (latest: {latest})\ncoordinator:\n{Coordinator?.Tail(40)}");
            }

            if (Coordinator is { HasExited: true })
            {
                throw new InvalidOperationException($"the coordinator exited ({Coordinator.ExitCode}) before step {step}:\n{Coordinator.Tail(40)}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The pid of the worker process of <paramref name="rank"/> (of this job: its command line names its agent's job file under <see cref="Directory"/>).</summary>
    public int WorkerPid(int rank) => WorkerProcessTable.Find(Directory, rank) ?? throw new InvalidOperationException($"no worker process of rank {rank} is running");

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

    private Dictionary<string, string> ProcessEnvironment() => new(Azurite?.Environment ?? new Dictionary<string, string>())
    {
        ["SORA_JOB_TOKEN"] = _token,
        ["CI"] = System.Environment.GetEnvironmentVariable("CI") ?? "",
    };
}
