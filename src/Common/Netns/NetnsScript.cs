using Sora.Tools;

namespace Sora.Netns;

/// <summary>Runs cluster/netns.sh and iproute2's <c>ip</c> in the root namespace, turning failures into errors that name the command.</summary>
internal static class NetnsScript
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    // sbin folders are searched too: a test host's PATH often leaves them out, while iproute2 installs ip and tc there.
    private static readonly string[] ExtraToolFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>cluster/netns.sh of the checkout the running assembly was built in.</summary>
    public static string ScriptPath { get; } = Sora.Checkout.SourceCheckout.PathOf("cluster", "netns.sh");

    public static string? Ip { get; } = FindTool("ip");

    public static string? Tc { get; } = FindTool("tc");

    public static string? Bash { get; } = FindTool("bash");

    /// <summary>util-linux's nsenter: how a process enters a host's network and mount namespaces.</summary>
    public static string? Nsenter { get; } = FindTool("nsenter");

    /// <summary>util-linux's unshare: how netns.sh makes a host's mount namespace.</summary>
    public static string? Unshare { get; } = FindTool("unshare");

    /// <summary>coreutils' env: changes to the host's view of the working directory after nsenter, then execs the program.</summary>
    public static string? Env { get; } = FindTool("env");

    /// <summary>Where <c>ip netns</c> binds network namespaces (host i: NAME-i).</summary>
    public const string NetworkNamespaceDirectory = "/run/netns";

    /// <summary>Where netns.sh binds the hosts' mount namespaces (host i: NAME-i) and records a cluster's disks (NAME.disks).</summary>
    public const string MountNamespaceDirectory = "/run/sora-mntns";

    public static string? FindTool(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(ExtraToolFolders)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Runs <c>netns.sh ARGS...</c> and returns its standard output.</summary>
    public static string Run(params string[] arguments) =>
        RunTool(Bash ?? throw new InvalidOperationException("bash is not installed"), [ScriptPath, .. arguments], $"cluster/netns.sh {string.Join(' ', arguments)}");

    /// <summary>Runs <c>ip ARGS...</c> in the root namespace and returns its standard output.</summary>
    public static string RunIp(params string[] arguments) =>
        RunTool(Ip ?? throw new InvalidOperationException("'ip' (iproute2) is not installed: run scripts/bootstrap.sh"), arguments, $"ip {string.Join(' ', arguments)}");

    /// <summary>The names of every network namespace on the machine (<c>ip netns list</c>).</summary>
    public static IReadOnlyList<string> ListNamespaces() =>
        RunIp("netns", "list")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2)[0])
            .ToList();

    private static string RunTool(string fileName, IEnumerable<string> arguments, string description)
    {
        var result = ToolProcess.Run(fileName, arguments, timeout: CommandTimeout);
        return result.ExitCode == 0 ? result.StandardOutput
            : throw new InvalidOperationException($"{description} failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
    }
}
