using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sora.Cluster.Tests.Harness;

/// <summary>
/// Several hosts on one machine for multi-process tests: network namespaces NAME-0..NAME-(N-1) on a bridge
/// of their own (cluster/netns.sh), the processes started in them, and the moves of a fault test: kill, stop,
/// freeze a process, cut a host off and heal it. Disposing kills every process and removes every namespace.
/// </summary>
public sealed partial class NetnsCluster : IAsyncDisposable
{
    /// <summary>Default names are "sora-PID-N"; a leftover whose test host PID is gone is removed by the next Create.</summary>
    private const string DefaultNamePrefix = "sora-";

    private static readonly TimeSpan ExitAfterKillTimeout = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<NetnsCluster, byte> Live = new();
    private static int s_created;

    private readonly Lock _gate = new();
    private readonly List<HostProcess> _processes = [];
    private int _started;
    private int _tornDown;

    static NetnsCluster()
    {
        // A test host that is stopped, or crashes on an unhandled exception, still takes its clusters down.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TearDownAllLive();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => TearDownAllLive();
    }

    private NetnsCluster(string name, IReadOnlyList<string> addresses, string logDirectory)
    {
        Name = name;
        Addresses = addresses;
        LogDirectory = logDirectory;
    }

    public string Name { get; }

    /// <summary>Host i's IPv4 address (10.a.b.(i+1), one /24 per cluster).</summary>
    public IReadOnlyList<string> Addresses { get; }

    public int HostCount => Addresses.Count;

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
            : !File.Exists(NetnsScript.ScriptPath) ? $"{NetnsScript.ScriptPath} is missing (the test project copies cluster/netns.sh there)"
            : "";
        return why.Length == 0;
    }

    /// <summary>Makes a cluster of <paramref name="hosts"/> hosts (<c>netns.sh up</c>); a leftover of the same name goes first.</summary>
    /// <param name="name">The cluster's name; by default a unique "sora-PID-N".</param>
    public static NetnsCluster Create(int hosts, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        if (!IsSupported(out var why))
        {
            throw new InvalidOperationException($"cannot make a network-namespace cluster: {why}");
        }

        RemoveLeftoversOfEndedTestHosts();
        name ??= string.Create(CultureInfo.InvariantCulture, $"{DefaultNamePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}");
        var output = NetnsScript.Run("up", name, hosts.ToString(CultureInfo.InvariantCulture));
        var cluster = new NetnsCluster(name, ParseHosts(name, hosts, output), Path.Combine(Path.GetTempPath(), "sora-netns", name));
        Live.TryAdd(cluster, 0);
        Directory.CreateDirectory(cluster.LogDirectory);
        return cluster;
    }

    public string Address(int host)
    {
        CheckHost(host);
        return Addresses[host];
    }

    /// <summary>The network namespace of host <paramref name="host"/> (NAME-i).</summary>
    public string Namespace(int host)
    {
        CheckHost(host);
        return string.Create(CultureInfo.InvariantCulture, $"{Name}-{host}");
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> inside host <paramref name="host"/> (through <c>ip netns exec</c>) with the
    /// test host's environment plus <paramref name="env"/>; stdout and stderr go to <paramref name="logFile"/>
    /// (by default a file in <see cref="LogDirectory"/>) and stay in memory.
    /// </summary>
    public HostProcess Start(int host, string fileName, IEnumerable<string> arguments, IDictionary<string, string>? env = null, string? logFile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        CheckHost(host);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _tornDown) != 0, this);
        var number = Interlocked.Increment(ref _started);
        logFile ??= Path.Combine(LogDirectory, string.Create(CultureInfo.InvariantCulture, $"{number:D3}-host{host}-{Path.GetFileName(fileName)}.log"));
        var process = HostProcess.Start(host, Namespace(host), fileName, arguments, env, logFile);
        lock (_gate)
        {
            _processes.Add(process);
        }

        return process;
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

    /// <summary>Kills every process started here and its descendants, removes every namespace and link (<c>netns.sh down</c>).</summary>
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

    // A test host killed with SIGKILL runs no exit hook: the clusters it left behind carry its pid in their name.
    private static void RemoveLeftoversOfEndedTestHosts()
    {
        var ended = NetnsScript.ListNamespaces()
            .Select(ns => DefaultNamespacePattern().Match(ns))
            .Where(match => match.Success && !Directory.Exists($"/proc/{match.Groups["pid"].Value}"))
            .Select(match => match.Groups["cluster"].Value)
            .Distinct(StringComparer.Ordinal);
        foreach (var name in ended)
        {
            NetnsScript.Run("down", name);
        }
    }

    private static List<string> ParseHosts(string name, int hosts, string output)
    {
        // netns.sh up prints "host i ADDRESS NAMESPACE", one line per host, in order.
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var addresses = new List<string>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            var index = addresses.Count;
            if (fields.Length != 4 || fields[0] != "host" || fields[1] != index.ToString(CultureInfo.InvariantCulture)
                || fields[3] != string.Create(CultureInfo.InvariantCulture, $"{name}-{index}"))
            {
                throw new InvalidOperationException($"cluster/netns.sh up {name} {hosts}: unexpected line '{line}' (expected 'host {index} ADDRESS {name}-{index}')");
            }

            addresses.Add(fields[2]);
        }

        if (addresses.Count != hosts)
        {
            throw new InvalidOperationException($"cluster/netns.sh up {name} {hosts} reported {addresses.Count} hosts");
        }

        return addresses;
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
