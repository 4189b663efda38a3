using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Checkpoint.Stores;

namespace Sora.Netns;

/// <summary>
/// Several hosts on one machine for multi-process tests: network namespaces NAME-0..NAME-(N-1) on a bridge
/// of their own and a mount namespace per host (cluster/netns.sh), the processes started in them, and the
/// moves of a fault test: kill, stop, freeze a process, cut a host off and heal it. Disposing kills every
/// process and removes every namespace, mount and host disk.
/// </summary>
/// <remarks>
/// <para>
/// Hosts that share nothing but a store: <c>Create(3, privateDirectories: [jobDirectory])</c> gives each host its
/// own, initially empty <c>jobDirectory</c> (a process on host 1 never sees host 2's files there, nor the test
/// host's), and <see cref="StartAzuriteAsync"/> runs the one shared store on a host, reached over the namespace
/// network. Everything outside the private directories (the checkout, artifacts/, tools/, the rest of /tmp) is
/// the same for every host.
/// </para>
/// <para>
/// The test itself runs in the root namespace: it sees host i's copy of a private file at
/// <see cref="PrivatePath"/>, and reaches services on the hosts through <see cref="HttpClient(int)"/> (its sockets
/// are opened inside a host's network namespace), never through the root namespace's network.
/// </para>
/// </remarks>
internal sealed partial class NetnsCluster : IAsyncDisposable
{
    /// <summary>Default names are "sora-PID-N"; a leftover whose test host PID is gone is removed by the next Create.</summary>
    private const string DefaultNamePrefix = "sora-";

    private static readonly TimeSpan ExitAfterKillTimeout = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<NetnsCluster, byte> Live = new();
    private static int s_created;

    private readonly Lock _gate = new();
    private readonly List<HostProcess> _processes = [];
    private readonly Dictionary<int, HttpClient> _httpClients = [];
    private readonly IReadOnlyList<string>? _disks;
    private int _started;
    private int _tornDown;

    static NetnsCluster()
    {
        // A test host that is stopped, or crashes on an unhandled exception, still takes its clusters down.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TearDownAllLive();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => TearDownAllLive();
    }

    private NetnsCluster(string name, IReadOnlyList<string> addresses, IReadOnlyList<string>? disks, IReadOnlyList<string> privateDirectories, string logDirectory)
    {
        Name = name;
        Addresses = addresses;
        _disks = disks;
        PrivateDirectories = privateDirectories;
        LogDirectory = logDirectory;
    }

    public string Name { get; }

    /// <summary>Host i's IPv4 address (10.a.b.(i+1), one /24 per cluster).</summary>
    public IReadOnlyList<string> Addresses { get; }

    public int HostCount => Addresses.Count;

    /// <summary>The directories each host has its own copy of (absolute paths, the same on every host); empty: the hosts share every file.</summary>
    public IReadOnlyList<string> PrivateDirectories { get; }

    /// <summary>Where a process's log goes when <see cref="Start"/> is given none; removed on dispose (pass a log file to keep one).</summary>
    public string LogDirectory { get; }

    /// <summary>True when CI=true (or 1): then a test that needs namespaces fails with the reason instead of being skipped.</summary>
    public static bool RunningUnderCi =>
        Environment.GetEnvironmentVariable("CI") is { } ci && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>Whether this machine can make namespace clusters (Linux, root, iproute2, bash, the script); if not, why.</summary>
    public static bool IsSupported(out string why)
    {
        why = !OperatingSystem.IsLinux() ? "network namespaces exist only on Linux"
            : !Environment.IsPrivilegedProcess ? "network namespaces need root, and this test host is not root"
            : NetnsScript.Ip is null ? "'ip' (iproute2) is not installed: run scripts/bootstrap.sh"
            : NetnsScript.Tc is null ? "'tc' (iproute2) is not installed: run scripts/bootstrap.sh"
            : NetnsScript.Bash is null ? "bash is not installed"
            : NetnsScript.Nsenter is null || NetnsScript.Unshare is null ? "'nsenter' and 'unshare' (util-linux) are not installed"
            : NetnsScript.Env is null ? "'env' (coreutils) is not installed"
            : !File.Exists(NetnsScript.ScriptPath) ? $"{NetnsScript.ScriptPath} is missing (the test project copies cluster/netns.sh there)"
            : "";
        return why.Length == 0;
    }

    /// <summary>Makes a cluster of <paramref name="hosts"/> hosts (<c>netns.sh up</c>); a leftover of the same name goes first.</summary>
    /// <param name="hosts">How many hosts: 0..hosts-1.</param>
    /// <param name="name">The cluster's name; by default a unique "sora-PID-N".</param>
    /// <param name="privateDirectories">
    /// Absolute paths every host has its own empty copy of (<c>netns.sh up --private</c>), typically the job's working
    /// directory; each is created in the root namespace if missing (the mount point), and its content there stays the
    /// test host's own. None: the hosts share every file, as before.
    /// </param>
    public static NetnsCluster Create(int hosts, string? name = null, IEnumerable<string>? privateDirectories = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        if (!IsSupported(out var why))
        {
            throw new InvalidOperationException($"cannot make a network-namespace cluster: {why}");
        }

        var privates = (privateDirectories ?? []).Select(Path.TrimEndingDirectorySeparator).ToList();
        var relative = privates.FirstOrDefault(path => !Path.IsPathFullyQualified(path));
        if (relative is not null)
        {
            throw new ArgumentException($"private directory '{relative}' must be an absolute path", nameof(privateDirectories));
        }

        RemoveLeftoversOfEndedTestHosts();
        name ??= string.Create(CultureInfo.InvariantCulture, $"{DefaultNamePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}");
        var output = NetnsScript.Run(["up", name, hosts.ToString(CultureInfo.InvariantCulture), .. privates.SelectMany(path => (string[])["--private", path])]);
        var (addresses, disks) = ParseHosts(name, hosts, output, privates.Count > 0);
        var cluster = new NetnsCluster(name, addresses, disks, privates, Path.Combine(Path.GetTempPath(), "sora-netns", name));
        Live.TryAdd(cluster, 0);
        Directory.CreateDirectory(cluster.LogDirectory);
        return cluster;
    }

    public string Address(int host)
    {
        CheckHost(host);
        return Addresses[host];
    }

    /// <summary>The network and mount namespaces of host <paramref name="host"/> (NAME-i).</summary>
    public string Namespace(int host)
    {
        CheckHost(host);
        return string.Create(CultureInfo.InvariantCulture, $"{Name}-{host}");
    }

    /// <summary>
    /// Where the test host (the root namespace) sees host <paramref name="host"/>'s copy of <paramref name="path"/>, a file or
    /// directory in one of the <see cref="PrivateDirectories"/>: its disk (<c>netns.sh disk</c>) followed by the path. Write a
    /// host's input there before starting its processes; read what they wrote there. No host sees another's copy.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not inside a private directory.</exception>
    public string PrivatePath(int host, string path)
    {
        CheckHost(host);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (_disks is null || !PrivateDirectories.Any(directory => full == directory || full.StartsWith(directory + "/", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{path}' is not inside a private directory of {this} (private: {(PrivateDirectories.Count == 0 ? "none" : string.Join(", ", PrivateDirectories))})", nameof(path));
        }

        return _disks[host] + full;
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> inside host <paramref name="host"/> (its network and mount namespaces, through
    /// <c>nsenter</c>) with the test host's environment plus <paramref name="env"/>, in <paramref name="workingDirectory"/>
    /// as the host sees it (default: the test host's current directory); stdout and stderr go to <paramref name="logFile"/>
    /// (by default a file in <see cref="LogDirectory"/>, written by the test host) and stay in memory.
    /// </summary>
    public HostProcess Start(int host, string fileName, IEnumerable<string> arguments, IDictionary<string, string>? env = null, string? logFile = null,
        string? workingDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        CheckHost(host);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _tornDown) != 0, this);
        var number = Interlocked.Increment(ref _started);
        logFile ??= Path.Combine(LogDirectory, string.Create(CultureInfo.InvariantCulture, $"{number:D3}-host{host}-{Path.GetFileName(fileName)}.log"));
        var process = HostProcess.Start(host, Namespace(host), fileName, arguments, env, logFile, Path.GetFullPath(workingDirectory ?? Environment.CurrentDirectory));
        lock (_gate)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>
    /// An HTTP client of the test host whose connections are opened from inside host <paramref name="host"/>'s network
    /// namespace: it reaches the hosts' addresses (and host <paramref name="host"/>'s loopback) as a process on that host
    /// would, while the test host's own network is never used. One per host, disposed with the cluster.
    /// </summary>
    public HttpClient HttpClient(int host)
    {
        CheckHost(host);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _tornDown) != 0, this);
        lock (_gate)
        {
            if (!_httpClients.TryGetValue(host, out var client))
            {
                client = new HttpClient(HostSockets.Handler(Path.Combine(NetnsScript.NetworkNamespaceDirectory, Namespace(host))));
                _httpClients[host] = client;
            }

            return client;
        }
    }

    /// <summary>
    /// Starts Azurite (the npm blob emulator of tools/node) on host <paramref name="host"/>, listening on that host's
    /// address only, and waits until it listens: every host reaches it over the namespace network, as it would a storage
    /// account. Blobs live in memory unless <paramref name="location"/> names a folder (use a private directory: the
    /// storage host's own disk). Killed with the cluster.
    /// </summary>
    public async Task<ClusterAzurite> StartAzuriteAsync(int host, string? location = null, int port = ClusterAzurite.DefaultPort)
    {
        CheckHost(host);
        var process = Start(host, AzuriteProcess.Executable, AzuriteProcess.ArgumentsFor(Address(host), port, location).Append("--skipApiVersionCheck"));
        await process.WaitForLineAsync(line => line.Contains("successfully listens on", StringComparison.Ordinal), ClusterAzurite.StartTimeout).ConfigureAwait(false);
        return new ClusterAzurite(this, host, port, process);
    }

    /// <summary>Cuts host <paramref name="host"/> off from every other host (<c>netns.sh cut</c>); its loopback still works.</summary>
    public void Cut(int host, CutMode mode = CutMode.PacketLoss)
    {
        CheckHost(host);
        NetnsScript.Run("cut", Name, host.ToString(CultureInfo.InvariantCulture), mode == CutMode.LinkDown ? "--link" : "--loss");
    }

    /// <summary>Undoes <see cref="Cut"/>, whichever mode it used.</summary>
    public void Heal(int host)
    {
        CheckHost(host);
        NetnsScript.Run("heal", Name, host.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Kills every process started here and its descendants, removes every namespace, link, mount and host disk (<c>netns.sh down</c>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!TearDown())
        {
            return;
        }

        List<HostProcess> processes;
        lock (_gate)
        {
            processes = [.. _processes];
            foreach (var client in _httpClients.Values)
            {
                client.Dispose();
            }

            _httpClients.Clear();
        }

        foreach (var process in processes)
        {
            // After SIGKILL the exit is a formality; waiting for it reads the output to its end before the log closes.
            await process.WaitForExitAsync(ExitAfterKillTimeout).ConfigureAwait(false);
            process.Dispose();
        }

        if (Directory.Exists(LogDirectory))
        {
            Directory.Delete(LogDirectory, recursive: true);
        }
    }

    public override string ToString() => $"cluster {Name} ({string.Join(", ", Addresses)})";

    // Returns false when it had already run.
    private bool TearDown()
    {
        if (Interlocked.Exchange(ref _tornDown, 1) != 0)
        {
            return false;
        }

        Live.TryRemove(this, out _);
        List<HostProcess> processes;
        lock (_gate)
        {
            processes = [.. _processes];
        }

        foreach (var process in processes)
        {
            process.KillTree();
        }

        // down also kills whatever is left in the namespaces: descendants that left the tree (daemons, orphans).
        NetnsScript.Run("down", Name);
        return true;
    }

    private static void TearDownAllLive()
    {
        foreach (var cluster in Live.Keys)
        {
            try
            {
                cluster.TearDown();
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                // The test host is ending: report and go on with the next cluster.
                Console.Error.WriteLine($"NetnsCluster: could not take down {cluster.Name}: {e.Message}");
            }
        }
    }

    // A test host killed with SIGKILL runs no exit hook: the clusters it left behind carry its pid in their name
    // (in their network namespaces, and in their mount namespaces and disk records should a down have been cut short).
    private static void RemoveLeftoversOfEndedTestHosts()
    {
        var mounts = Directory.Exists(NetnsScript.MountNamespaceDirectory)
            ? Directory.EnumerateFiles(NetnsScript.MountNamespaceDirectory).Select(file => Path.GetFileName(file).Replace(".disks", "-net", StringComparison.Ordinal))
            : [];
        var ended = NetnsScript.ListNamespaces().Concat(mounts)
            .Select(ns => DefaultNamespacePattern().Match(ns))
            .Where(match => match.Success && !Directory.Exists($"/proc/{match.Groups["pid"].Value}"))
            .Select(match => match.Groups["cluster"].Value)
            .Distinct(StringComparer.Ordinal);
        foreach (var name in ended)
        {
            NetnsScript.Run("down", name);
        }
    }

    private static (List<string> Addresses, List<string>? Disks) ParseHosts(string name, int hosts, string output, bool withDisks)
    {
        // netns.sh up prints "host i ADDRESS NAMESPACE", one line per host, in order; then, with private
        // directories, "disk i DIRECTORY", one line per host, in order.
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var addresses = new List<string>();
        var disks = new List<string>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            if (fields is ["disk", var number, var disk] && withDisks && addresses.Count == hosts && number == disks.Count.ToString(CultureInfo.InvariantCulture))
            {
                disks.Add(disk);
                continue;
            }

            var index = addresses.Count;
            if (fields.Length != 4 || fields[0] != "host" || fields[1] != index.ToString(CultureInfo.InvariantCulture)
                || fields[3] != string.Create(CultureInfo.InvariantCulture, $"{name}-{index}"))
            {
                throw new InvalidOperationException($"cluster/netns.sh up {name} {hosts}: unexpected line '{line}' (expected 'host {index} ADDRESS {name}-{index}'{(withDisks ? " or 'disk I DIRECTORY'" : "")})");
            }

            addresses.Add(fields[2]);
        }

        if (addresses.Count != hosts || disks.Count != (withDisks ? hosts : 0))
        {
            throw new InvalidOperationException($"cluster/netns.sh up {name} {hosts} reported {addresses.Count} hosts and {disks.Count} disks:\n{output}");
        }

        return (addresses, withDisks ? disks : null);
    }

    private void CheckHost(int host)
    {
        if (host < 0 || host >= Addresses.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(host), host, $"cluster {Name} has hosts 0..{Addresses.Count - 1}");
        }
    }

    [GeneratedRegex(@"^(?<cluster>sora-(?<pid>\d+)-\d+)-(net|\d+)$")]
    private static partial Regex DefaultNamespacePattern();
}
