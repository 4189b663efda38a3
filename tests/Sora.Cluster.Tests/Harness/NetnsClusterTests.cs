using System.Diagnostics;
using System.Globalization;
using Sora.Netns;

namespace Sora.Cluster.Tests.Harness;

/// <summary>
/// The namespace-cluster harness against the real kernel: addresses and reachability, loopback isolation,
/// cut and heal in both modes, the signals, private directories (each host's own, the rest shared), and a
/// teardown that leaves no process, namespace, mount or disk behind, after a crash as well. The TCP peers are
/// OpenBSD nc (server) and bash's /dev/tcp (client), both installed by scripts/bootstrap.sh.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class NetnsClusterTests(SharedNetnsCluster shared) : IClassFixture<SharedNetnsCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // Tests that leave the topology as they found it share one 2-host cluster (each uses its own ports);
    // the ones about making and removing clusters make their own.
    private NetnsCluster Cluster => shared.Cluster;

    [NetnsFact]
    public async Task Two_hosts_reach_each_other_at_their_own_addresses()
    {
        var cluster = Cluster;
        cluster.Addresses.Should().HaveCount(2).And.OnlyHaveUniqueItems();
        cluster.Address(0).Should().MatchRegex(@"^10\.\d+\.\d+\.1$");
        cluster.Address(1).Should().Be(cluster.Address(0)[..^1] + "2", "the hosts share one /24");
        NetnsScript.Run("addr", cluster.Name, "1").Trim().Should().Be(cluster.Address(1));

        using var server0 = cluster.Start(0, "nc", ["-lk", cluster.Address(0), "7000"]);
        using var server1 = cluster.Start(1, "nc", ["-lk", cluster.Address(1), "7000"]);
        HostProcess[] servers = [server0, server1];
        await SendUntilDeliveredAsync(cluster, from: 0, cluster.Address(1), 7000, "hello-from-0");
        await SendUntilDeliveredAsync(cluster, from: 1, cluster.Address(0), 7000, "hello-from-1");

        (await servers[1].WaitForLineAsync(line => line.StartsWith("hello", StringComparison.Ordinal), Patience)).Should().Be("hello-from-0");
        (await servers[0].WaitForLineAsync(line => line.StartsWith("hello", StringComparison.Ordinal), Patience)).Should().Be("hello-from-1");
    }

    [NetnsFact]
    public async Task A_hosts_loopback_is_its_own()
    {
        var cluster = Cluster;
        using var server = cluster.Start(0, "nc", ["-lk", "127.0.0.1", "7001"]);
        await SendUntilDeliveredAsync(cluster, from: 0, "127.0.0.1", 7001, "own-loopback");
        (await server.WaitForLineAsync(line => line == "own-loopback", Patience)).Should().NotBeNull();

        var fromOtherHost = await SendAsync(cluster, from: 1, "127.0.0.1", 7001, "other-loopback");
        fromOtherHost.ExitCode.Should().Be(1, fromOtherHost.Output);
        fromOtherHost.Output.Should().Contain("Connection refused", "host 1's loopback has no server on it");

        var overTheNetwork = await SendAsync(cluster, from: 1, cluster.Address(0), 7001, "over-the-network");
        overTheNetwork.Output.Should().Contain("Connection refused", "the server listens on host 0's loopback only");
    }

    [NetnsTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_cut_host_can_neither_be_reached_nor_reach_out_until_it_is_healed(bool linkStaysUp)
    {
        // Dropping every packet keeps the link up; taking the bridge port down does not.
        var mode = linkStaysUp ? CutMode.PacketLoss : CutMode.LinkDown;
        var cluster = Cluster;
        var port = 7002 + (int)mode;
        using var server = cluster.Start(1, "nc", ["-lk", cluster.Address(1), port.ToString(CultureInfo.InvariantCulture)]);
        await SendUntilDeliveredAsync(cluster, from: 0, cluster.Address(1), port, "before-cut");

        cluster.Cut(1, mode);
        try
        {
            await ExpectCutAsync(cluster, port, linkStaysUp);
        }
        finally
        {
            cluster.Heal(1);
        }

        await SendUntilDeliveredAsync(cluster, from: 0, cluster.Address(1), port, "after-heal", retryHangs: true);
        (await server.WaitForLineAsync(line => line == "after-heal", Patience)).Should().NotBeNull();
        server.Output.Should().NotContain("during-cut");
    }

    private static async Task ExpectCutAsync(NetnsCluster cluster, int port, bool linkStaysUp)
    {
        // `timeout 1` ends a connection attempt that hangs: 124. A refusal (1) would mean packets still flow.
        var inward = SendAsync(cluster, from: 0, cluster.Address(1), port, "during-cut");
        var outward = SendAsync(cluster, from: 1, cluster.Address(0), port, "from-cut-host");
        var loopback = SendAsync(cluster, from: 1, "127.0.0.1", port, "cut-loopback");
        (await inward).ExitCode.Should().Be(124, $"packets to a cut host vanish, so the attempt hangs: {inward.Result.Output}");
        (await outward).ExitCode.Should().Be(124, $"a cut host's packets vanish too (host 0 would have refused): {outward.Result.Output}");
        (await loopback).Output.Should().Contain("Connection refused", "a cut host still reaches its own loopback");

        var link = cluster.Start(1, "ip", ["-o", "link", "show", "eth0"]);
        (await link.WaitForExitAsync(Patience)).Should().Be(0, link.Output);
        link.Output.Contains("LOWER_UP", StringComparison.Ordinal).Should().Be(linkStaysUp, link.Output);
    }

    [NetnsFact]
    public void Pid_is_the_program_itself_inside_its_hosts_namespace()
    {
        var cluster = Cluster;
        using var sleeper = cluster.Start(1, "sleep", ["30"]);

        File.ReadAllText($"/proc/{sleeper.Pid}/cmdline").Split('\0')[0].Should().Be("sleep", "nsenter and env exec the program in their own process");
        NetnsScript.RunIp("netns", "identify", sleeper.Pid.ToString(CultureInfo.InvariantCulture)).Trim().Should().Be(cluster.Namespace(1));
        File.ResolveLinkTarget($"/proc/{sleeper.Pid}/ns/mnt", returnFinalTarget: false)!.Name.Should().NotBe(File.ResolveLinkTarget("/proc/self/ns/mnt", false)!.Name,
            "the program runs in its host's own mount namespace");
    }

    [NetnsFact]
    public async Task Freeze_stops_the_program_and_thaw_lets_it_run_again()
    {
        using var sleeper = Cluster.Start(0, "sleep", ["30"]);
        await EventuallyAsync(() => sleeper.State == 'S', "sleep is asleep");

        sleeper.Freeze();
        await EventuallyAsync(() => sleeper.State == 'T', "SIGSTOP leaves the process stopped (T)");
        sleeper.HasExited.Should().BeFalse();

        sleeper.Thaw();
        await EventuallyAsync(() => sleeper.State == 'S', "SIGCONT lets it sleep (run) again");
    }

    [NetnsFact]
    public async Task Stop_sends_sigterm_which_the_program_can_handle_and_kill_sends_sigkill_which_it_cannot()
    {
        const string script = "trap 'echo got SIGTERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
        var cluster = Cluster;
        using var stopped = cluster.Start(0, "bash", ["-c", script]);
        await stopped.WaitForLineAsync(line => line == "ready", Patience);
        stopped.Stop();
        (await stopped.WaitForExitAsync(Patience)).Should().Be(3, "the program's own SIGTERM handler ended it");
        stopped.Output.Should().Contain("got SIGTERM");
        stopped.ExitCode.Should().Be(3);

        using var killed = cluster.Start(0, "bash", ["-c", script]);
        await killed.WaitForLineAsync(line => line == "ready", Patience);
        killed.Kill();
        (await killed.WaitForExitAsync(Patience)).Should().Be(128 + 9, "SIGKILL ends it without running its handler");
        killed.Output.Should().NotContain("got SIGTERM");
        killed.Invoking(k => k.Freeze()).Should().Throw<InvalidOperationException>().WithMessage("*SIGSTOP*exited*");
    }

    [NetnsFact]
    public async Task KillTree_kills_the_program_and_the_processes_it_started()
    {
        using var parent = Cluster.Start(1, "bash", ["-c", "sleep 300 & echo child $!; wait"]);
        var child = int.Parse((await parent.WaitForLineAsync(line => line.StartsWith("child ", StringComparison.Ordinal), Patience))["child ".Length..], CultureInfo.InvariantCulture);
        IsGone(child).Should().BeFalse();

        parent.KillTree();

        (await parent.WaitForExitAsync(Patience)).Should().Be(128 + 9);
        await EventuallyAsync(() => IsGone(child), "the child sleep is killed with its parent");
    }

    [NetnsFact]
    public async Task Waiting_and_starting_fail_with_errors_that_name_the_host_and_the_program()
    {
        var cluster = Cluster;
        using var quitter = cluster.Start(1, "bash", ["-c", "echo only-line; exit 4"]);
        (await quitter.Invoking(q => q.WaitForLineAsync(line => line == "never", Patience)).Should().ThrowAsync<InvalidOperationException>())
            .WithMessage("host 1 *bash*exited with code 4*only-line*");
        (await quitter.WaitForLineAsync(line => line == "only-line", Patience)).Should().Be("only-line", "lines seen before the wait count");

        using var sleeper = cluster.Start(1, "sleep", ["30"]);
        await sleeper.Invoking(s => s.WaitForLineAsync(_ => true, TimeSpan.FromMilliseconds(200))).Should().ThrowAsync<TimeoutException>()
            .WithMessage($"host 1 ({cluster.Namespace(1)}): sleep (pid {sleeper.Pid})*");

        cluster.Invoking(c => c.Start(0, "no-such-program-here", [])).Should().Throw<InvalidOperationException>()
            .WithMessage("host 0 *could not start no-such-program-here*No such file*");
        cluster.Invoking(c => c.Start(2, "sleep", ["1"])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*hosts 0..1*");
    }

    [NetnsFact]
    public async Task Output_goes_to_the_log_file_and_the_environment_reaches_the_program()
    {
        var logFile = Path.Combine(Path.GetTempPath(), $"sora-netns-log-{Guid.NewGuid():N}.log");
        try
        {
            using (var printer = Cluster.Start(0, "bash", ["-c", "echo \"out $SORA_TEST_VALUE\"; echo err >&2"], new Dictionary<string, string> { ["SORA_TEST_VALUE"] = "42" }, logFile))
            {
                (await printer.WaitForExitAsync(Patience)).Should().Be(0);
                printer.Output.Split('\n').Should().BeEquivalentTo("out 42", "err");
            }

            File.ReadAllLines(logFile).Should().BeEquivalentTo("out 42", "err");
        }
        finally
        {
            File.Delete(logFile);
        }
    }

    [NetnsFact]
    public async Task Dispose_kills_every_process_in_the_cluster_and_leaves_no_namespace_nor_root_link()
    {
        var rootLinks = RootLinkNames();
        var cluster = NetnsCluster.Create(2);
        RootLinkNames().Should().Equal(rootLinks, "every link lives inside the cluster's own namespaces");
        var parent = cluster.Start(0, "bash", ["-c", "sleep 300 & sleep 300 & echo started; wait"]);
        // A daemon: its parent exits at once, so it is no descendant of anything the harness started.
        var daemonStarter = cluster.Start(1, "bash", ["-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started"]);
        await parent.WaitForLineAsync(line => line == "started", Patience);
        (await daemonStarter.WaitForExitAsync(Patience)).Should().Be(0);
        var pids = PidsIn(cluster.Namespace(0)).Concat(PidsIn(cluster.Namespace(1))).ToList();
        pids.Should().HaveCount(4, "bash and its two sleeps on host 0, the daemon on host 1");

        await cluster.DisposeAsync();

        NetnsScript.ListNamespaces().Where(ns => ns.StartsWith(cluster.Name + "-", StringComparison.Ordinal)).Should().BeEmpty();
        parent.HasExited.Should().BeTrue();
        foreach (var pid in pids)
        {
            IsGone(pid).Should().BeTrue($"pid {pid} was in the cluster");
        }

        Directory.Exists(cluster.LogDirectory).Should().BeFalse();
        cluster.Invoking(c => c.Start(0, "sleep", ["1"])).Should().Throw<ObjectDisposedException>();
    }

    [NetnsFact]
    public async Task A_private_directory_is_each_hosts_own_and_the_rest_of_the_file_system_is_shared()
    {
        var directory = PrivateDirectoryName();
        var shared = Path.Combine(Path.GetTempPath(), $"sora-netns-shared-{Guid.NewGuid():N}");
        try
        {
            await using var cluster = NetnsCluster.Create(3, privateDirectories: [directory]);
            Directory.Exists(directory).Should().BeTrue("up makes the mount point in the root namespace");
            File.WriteAllText(Path.Combine(directory, "root-only"), "the test host's");
            File.WriteAllText(shared, "everyone's");

            (await RunAsync(cluster, 1, "echo host-1 >written-by-1 && ls -A", directory)).Should().Be("written-by-1", "a host's private directory starts empty");
            (await RunAsync(cluster, 1, "cat written-by-1", directory)).Should().Be("host-1", "a second process on host 1 sees host 1's file");
            (await RunAsync(cluster, 2, "ls -A", directory)).Should().BeEmpty("host 2 has its own copy of the directory");
            (await RunAsync(cluster, 2, $"cat {cluster.PrivatePath(1, Path.Combine(directory, "written-by-1"))} 2>/dev/null || echo hidden", "/")).Should().Be("hidden",
                "no host reaches another host's disk");
            (await RunAsync(cluster, 2, $"cat {shared}", directory)).Should().Be("everyone's", "outside the private directories every host sees the same files");

            File.Exists(Path.Combine(directory, "written-by-1")).Should().BeFalse("the root namespace keeps its own copy");
            File.ReadAllText(cluster.PrivatePath(1, Path.Combine(directory, "written-by-1"))).Should().Be("host-1\n", "the test host reads host 1's disk");
            File.Exists(cluster.PrivatePath(2, Path.Combine(directory, "written-by-1"))).Should().BeFalse();
            cluster.Invoking(c => c.PrivatePath(0, shared)).Should().Throw<ArgumentException>().WithMessage($"*'{shared}' is not inside a private directory*");
        }
        finally
        {
            File.Delete(shared);
            Directory.Delete(directory, recursive: true);
        }
    }

    [NetnsFact]
    public async Task Dispose_leaves_no_mount_namespace_mount_nor_disk_even_while_processes_sit_in_a_private_directory()
    {
        var directory = PrivateDirectoryName();
        try
        {
            var cluster = NetnsCluster.Create(2, privateDirectories: [directory]);
            var disk = Path.GetDirectoryName(cluster.PrivatePath(0, directory)[..^directory.Length])!;
            // A daemon whose working directory is the host's private directory, and bash, which has exited by the time Start looks.
            using var starter = cluster.Start(1, "bash", ["-c", "echo data >file; setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started"], workingDirectory: directory);
            (await starter.WaitForExitAsync(Patience)).Should().Be(0);
            MountsOf(cluster.Name).Should().HaveCount(2, "one bound mount namespace per host");

            await cluster.DisposeAsync();

            LeftoversOf(cluster.Name).Should().BeEmpty();
            MountsOf(cluster.Name).Should().BeEmpty();
            Directory.Exists(disk).Should().BeFalse("the hosts' disks go with the cluster");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [NetnsFact]
    public async Task Create_removes_a_crashed_private_disk_cluster_of_the_same_name_and_down_a_half_removed_one()
    {
        var name = $"sora-leftover-{Environment.ProcessId}-p";
        var directory = PrivateDirectoryName();
        try
        {
            // A crashed run: its hosts, mounts and disks are all still there, one with a process in a private directory.
            NetnsScript.Run("up", name, "2", "--private", directory);
            var disk = NetnsScript.Run("disk", name, "1").Trim();
            File.WriteAllText(Path.Combine(disk + directory, "stale"), "from the crashed run");
            await using (var cluster = NetnsCluster.Create(2, name, privateDirectories: [directory]))
            {
                File.Exists(cluster.PrivatePath(1, Path.Combine(directory, "stale"))).Should().BeFalse("every host starts with an empty disk");
                MountsOf(name).Should().HaveCount(2);
                // Half removed: the network namespaces are gone, the mount namespaces and the disks are not.
                NetnsScript.RunIp("netns", "del", $"{name}-0");
                NetnsScript.RunIp("netns", "del", $"{name}-1");
                NetnsScript.RunIp("netns", "del", $"{name}-net");
            }

            LeftoversOf(name).Should().BeEmpty();
            MountsOf(name).Should().BeEmpty();
            Directory.Exists(disk).Should().BeFalse();
        }
        finally
        {
            NetnsScript.Run("down", name);
            Directory.Delete(directory, recursive: true);
        }
    }

    [NetnsFact]
    public async Task Up_replaces_a_leftover_of_the_same_name_and_down_takes_a_half_made_cluster_apart()
    {
        var name = $"sora-leftover-{Environment.ProcessId}";
        try
        {
            NetnsScript.Run("up", name, "3");
            await using (var cluster = NetnsCluster.Create(2, name))
            {
                ClusterNamespaces(name).Should().BeEquivalentTo($"{name}-0", $"{name}-1", $"{name}-net");
                NetnsScript.RunIp("netns", "del", $"{name}-net"); // half made: the bridge is gone
            }

            ClusterNamespaces(name).Should().BeEmpty();
        }
        finally
        {
            NetnsScript.Run("down", name);
        }
    }

    [NetnsFact]
    public async Task Create_removes_the_clusters_of_a_test_host_that_died_without_cleaning_up()
    {
        var deadPid = PidOfAnEndedProcess();
        var leftover = $"sora-{deadPid}-1";
        try
        {
            NetnsScript.Run("up", leftover, "1");
            ClusterNamespaces(leftover).Should().HaveCount(2);

            await using var cluster = NetnsCluster.Create(1);

            ClusterNamespaces(leftover).Should().BeEmpty();
            ClusterNamespaces(cluster.Name).Should().HaveCount(2, "the live cluster is untouched");
        }
        finally
        {
            NetnsScript.Run("down", leftover);
        }
    }

    // Runs a bash command on a host in a directory (as the host sees it) and returns its trimmed output.
    private static async Task<string> RunAsync(NetnsCluster cluster, int host, string command, string directory)
    {
        using var process = cluster.Start(host, "bash", ["-c", command], workingDirectory: directory);
        (await process.WaitForExitAsync(Patience)).Should().Be(0, process.Output);
        return process.Output.Trim();
    }

    private static string PrivateDirectoryName() => Path.Combine(Path.GetTempPath(), $"sora-netns-private-{Guid.NewGuid():N}");

    // What the root namespace still holds of a cluster: network namespaces, mount-namespace files, the disks record.
    private static List<string> LeftoversOf(string name) =>
        [
            .. ClusterNamespaces(name),
            .. Directory.EnumerateFiles(NetnsScript.MountNamespaceDirectory).Select(file => Path.GetFileName(file))
                .Where(file => file.StartsWith(name + "-", StringComparison.Ordinal) || file == name + ".disks"),
        ];

    // The root namespace's mounts of the cluster's mount namespaces (/proc/self/mountinfo's mount points).
    private static List<string> MountsOf(string name) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(point => point.StartsWith($"{NetnsScript.MountNamespaceDirectory}/{name}-", StringComparison.Ordinal))
            .ToList();

    // Connects from a host with bash's /dev/tcp and sends one line. Exit code: 0 sent, 1 refused or
    // unreachable, 124 the attempt hung for the whole second (packets vanish).
    private static async Task<(int ExitCode, string Output)> SendAsync(NetnsCluster cluster, int from, string address, int port, string text)
    {
        var client = cluster.Start(from, "timeout", ["1", "bash", "-c", $"echo {text} >/dev/tcp/{address}/{port}"]);
        var exitCode = await client.WaitForExitAsync(Patience);
        return (exitCode, client.Output);
    }

    // Retries while the server is not listening yet (refused), and with retryHangs while attempts hang (just after a heal, the
    // hosts' ARP entries for each other may still be failed ones, re-probed once a second); anything else fails at once.
    private static async Task SendUntilDeliveredAsync(NetnsCluster cluster, int from, string address, int port, string text, bool retryHangs = false)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            var (exitCode, output) = await SendAsync(cluster, from, address, port, text);
            if (exitCode == 0)
            {
                return;
            }

            if ((exitCode != 1 && !(retryHangs && exitCode == 124)) || elapsed.Elapsed > Patience)
            {
                throw new InvalidOperationException($"host {from} could not send to {address}:{port} (exit code {exitCode}): {output}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            elapsed.Elapsed.Should().BeLessThan(Patience, $"expected: {what}");
            await Task.Delay(10);
        }
    }

    private static List<int> PidsIn(string @namespace) =>
        NetnsScript.RunIp("netns", "pids", @namespace)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(pid => int.Parse(pid, CultureInfo.InvariantCulture))
            .ToList();

    // Gone, or a zombie: dead, waiting only for a parent outside the cluster to reap it.
    private static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static List<string> ClusterNamespaces(string name) =>
        NetnsScript.ListNamespaces().Where(ns => ns.StartsWith(name + "-", StringComparison.Ordinal)).ToList();

    private static List<string> RootLinkNames() =>
        NetnsScript.RunIp("-o", "link", "show")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3)[1].Trim())
            .Order(StringComparer.Ordinal)
            .ToList();

    private static int PidOfAnEndedProcess()
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", "exit 0"]) { UseShellExecute = false })!;
        process.WaitForExit();
        Directory.Exists($"/proc/{process.Id}").Should().BeFalse("the process has exited and been reaped");
        return process.Id;
    }
}
