namespace Sora.Cluster.Protocol;

/// <summary>How a process ended, in words: an exit code, or the signal that killed it (exit code 128 + n).</summary>
public static class ExitStatus
{
    public static string Describe(int exitCode) => exitCode switch
    {
        > 128 and < 160 => $"signal {exitCode - 128} ({SignalName(exitCode - 128)})",
        < 0 => $"signal {-exitCode} ({SignalName(-exitCode)})",
        _ => $"exit code {exitCode}",
    };

    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => $"signal {signal}",
    };
}
