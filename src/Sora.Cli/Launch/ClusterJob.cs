using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Sora.Cluster;
using Sora.Cluster.Agent;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;
using Sora.Distributed.Configuration;
using Sora.Distributed.Store;

namespace Sora.Cli.Launch;

/// <summary>
/// What <c>sora launch</c>, <c>sora coordinator</c>, <c>sora agent</c>, <c>sora status</c> and <c>sora stop</c> share: the
/// job token (generated at launch into <c>.sora/token</c>, mode 0600, or taken from SORA_JOB_TOKEN or a file), the
/// coordinator's address file, the job spec the coordinator runs, and how an agent starts this program.
/// </summary>
internal static class ClusterJob
{
    public const string TokenVariable = "SORA_JOB_TOKEN";

    /// <summary>This machine's launch state: the token and the running coordinator's address (in the working directory).</summary>
    public static string StateDirectory => Path.GetFullPath(".sora");

    public static string DefaultTokenFile => Path.Combine(StateDirectory, "token");

    public static string CoordinatorFile => Path.Combine(StateDirectory, "coordinator.json");

    /// <summary>The software version agents must match.</summary>
    public static string Version =>
        typeof(ClusterJob).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    /// <summary>The job token: SORA_JOB_TOKEN, else <paramref name="tokenFile"/>, else (when <paramref name="create"/>) a new one written to .sora/token with mode 0600.</summary>
    public static string Token(string? tokenFile, bool create)
    {
        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment.Trim();
        }

        var file = tokenFile ?? DefaultTokenFile;
        if (tokenFile is not null || !create)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"no job token: set {TokenVariable} or pass --token-file (looked for {file})");
            }

            var token = File.ReadAllText(file).Trim();
            return token.Length > 0 ? token : throw new InvalidDataException($"{file}: the token file is empty");
        }

        Directory.CreateDirectory(StateDirectory);
        return CreateToken(file);
    }

    /// <summary>Writes a new random token to <paramref name="file"/>, created with mode 0600 before the token is written into it.</summary>
    public static string CreateToken(string file)
    {
        var generated = NewToken();
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllText(file, generated + "\n");
            return generated;
        }

        File.Delete(file);
        using (var stream = new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(generated);
        }

        return generated;
    }

    /// <summary>A new random job token (256 bits, hex).</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Records where the API is, for <c>sora status</c> and <c>sora stop</c> in this directory.</summary>
    public static void WriteCoordinatorFile(string apiUrl, string job)
    {
        Directory.CreateDirectory(StateDirectory);
        File.WriteAllText(CoordinatorFile, JsonSerializer.Serialize(new CoordinatorAddress(apiUrl, job, Environment.ProcessId)));
    }

    /// <summary>The API URL: the one given, or the one the last launch in this directory wrote.</summary>
    public static string ApiUrl(string? given)
    {
        if (given is not null)
        {
            return given.TrimEnd('/');
        }

        if (!File.Exists(CoordinatorFile))
        {
            throw new FileNotFoundException($"no coordinator given and none launched from this directory ({CoordinatorFile} is missing): pass --coordinator http://HOST:PORT");
        }

        var address = JsonSerializer.Deserialize<CoordinatorAddress>(File.ReadAllText(CoordinatorFile)) ?? throw new InvalidDataException($"{CoordinatorFile}: empty");
        return address.Api.TrimEnd('/');
    }

    /// <summary>The job's store (<c>checkpoint.store</c>).</summary>
    public static JobStore Store(JobConfig config) => JobStore.Open(config.Checkpoint.StoreOf(config.Output), config.Checkpoint.Credential);

    /// <summary>The dataset the job's workers read: inside the job's store for a generated dataset of a multi-node job (<see cref="JobStore.PlaceData"/>).</summary>
    public static (DataConfig Data, bool InStore) WorkerData(JobConfig config, FaultPolicy fault) => Store(config).PlaceData(config.Data, config.Seed, fault.MaxNodes > 1);

    /// <summary>Where the workers read the dataset when that is not where the job file says (null: where it says).</summary>
    public static WorkerDataset? Dataset(JobConfig config, FaultPolicy fault) =>
        WorkerData(config, fault) is ({ } data, true) ? new WorkerDataset(data.Path!, data.Credential) : null;

    /// <summary>The coordinator's job spec from the job file and the command line; <paramref name="workers"/> is what every worker is told.</summary>
    public static JobSpec Spec(JobConfig config, FaultPolicy fault, string token, string storeHost, int storePort, WorkerJobOptions workers) =>
        new(config.Name, config.Source, Batches(config), config.Training.Steps, fault, WorkerCommandLine.JobArguments(workers), JobKey.FromToken(token), Version, storeHost, storePort)
        {
            Model = $"dit-d{config.Model.Depth}-h{config.Model.Hidden}",
            StragglerRatio = config.Fault.StragglerRatio,
            CheckpointedStages = config.Checkpoint.Every > 0 ? new HashSet<string>(StringComparer.Ordinal) { "vae", "dit" } : new HashSet<string>(StringComparer.Ordinal),
        };

    /// <summary>The job's checkpoints as its <c>checkpoint:</c> section says (<c>sora launch</c>).</summary>
    public static WorkerCheckpoints Checkpoints(JobConfig config) =>
        new(config.Checkpoint.Every, config.Checkpoint.StoreOf(config.Output), config.Checkpoint.Credential, config.Checkpoint.KeepLast, config.Checkpoint.KeepEvery);

    /// <summary>Every global batch of the job with its key: a world size must divide each (<see cref="BatchSplit"/>).</summary>
    public static IReadOnlyList<(string Key, int Size)> Batches(JobConfig config) =>
        [("vae.train.batch_size", config.VaeTraining.BatchSize), ("train.batch_size", config.Training.BatchSize)];

    /// <summary>The ledger over the job's store: the VAE and DiT stages' checkpoints.</summary>
    public static StoreCheckpointLedger Ledger(JobConfig config) =>
        new(config.Checkpoint.OpenStore(config.Output), JobStore.VaeCheckpoints, JobStore.DiTCheckpoints);

    /// <summary>The fault policy: the job's <c>fault:</c> section with the command line's overrides.</summary>
    public static FaultPolicy Fault(JobConfig config, string? nodes, int? maxRestarts, double? hangTimeout)
    {
        var (min, max) = nodes is null ? (config.Fault.MinNodes, config.Fault.MaxNodes) : FaultPolicy.ParseNodes(nodes);
        var hang = hangTimeout ?? config.Fault.HangTimeout;
        return new FaultPolicy(
            maxRestarts ?? config.Fault.MaxRestarts,
            min,
            max,
            hang is { } h ? TimeSpan.FromSeconds(h) : null,
            TimeSpan.FromSeconds(config.Fault.RendezvousWait),
            null,
            TimeSpan.FromSeconds(config.Fault.CoordinatorTimeout)).Validate();
    }

    /// <summary>
    /// An agent's options for this machine; it writes the job file it is sent under <paramref name="stateDirectory"/> (default:
    /// .sora). A null <paramref name="coordinatorTimeout"/> takes the job's (the coordinator sends it).
    /// </summary>
    public static AgentOptions Agent(string node, string host, int processes, int threads, string token, TimeSpan? coordinatorTimeout, string? stateDirectory = null) =>
        new(node, host, processes, threads, JobKey.FromToken(token), Version, "", Self(), Path.Combine(stateDirectory ?? StateDirectory, "agent-" + node), coordinatorTimeout, TimeSpan.FromSeconds(5));

    /// <summary>How to start this same program: the apphost, or <c>dotnet sora.dll</c>.</summary>
    public static IReadOnlyList<string> Self()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path to start workers");
        var entry = typeof(ClusterJob).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? [process, "exec", entry] : [process];
    }

    /// <summary>Splits <c>HOST:PORT</c>; the message names the option.</summary>
    public static (string Host, int Port) Endpoint(string text, string option)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"{option}: expected HOST:PORT (got '{text}')");
        }

        return (text[..colon], port);
    }

    /// <summary>The local address that routes to <paramref name="host"/> (what this node's workers should announce).</summary>
    public static string LocalAddressTowards(string host)
    {
        try
        {
            var target = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
            if (IPAddress.IsLoopback(target))
            {
                return "127.0.0.1";
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(target, 9);
            return ((IPEndPoint)socket.LocalEndPoint!).Address.ToString();
        }
        catch (SocketException error)
        {
            throw new ArgumentException($"cannot find a local address that reaches the coordinator at {host}: {error.Message}; pass --advertise ADDRESS", error);
        }
    }

    /// <summary>A free TCP port on loopback (for a standalone launch's control plane).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Fails with a message naming the endpoint when it cannot be bound (before anything starts).</summary>
    public static void CheckBindable(string host, int port, string what)
    {
        try
        {
            var address = host is "0.0.0.0" or "*" ? IPAddress.Any : IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host)[0];
            using var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException error)
        {
            throw new ArgumentException($"cannot bind {what} on {host}:{port}: {error.Message}", error);
        }
    }

    private sealed record CoordinatorAddress(string Api, string Job, int Pid);
}
