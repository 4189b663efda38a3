using System.Globalization;
using System.Runtime.InteropServices;
using Sora.Data.Parquet;
using Sora.Distributed.Configuration;

namespace Sora.Cluster.Workers;

/// <summary>
/// The worker's side of its life under an agent: it dies with the process that started it, even when it cannot run
/// (<see cref="DieWithParent"/>), and when it fails it says whether the failure would happen again on a restart
/// (<see cref="ExitCodeFor"/>), so that the coordinator does not spend the restart budget on an error no restart fixes.
/// </summary>
public static partial class WorkerLifetime
{
    /// <summary>The environment variable the agent's <c>WorkerProcess</c> sets to its own pid.</summary>
    public const string ParentPidVariable = "SORA_PARENT_PID";

    /// <summary>
    /// The exit code (EX_CONFIG of sysexits.h) of a worker that failed with a configuration or data error that would fail
    /// the same way again: the coordinator ends the job with the worker's message instead of restarting it.
    /// </summary>
    public const int ConfigurationErrorExitCode = 78;

    /// <summary>The exit code of any other failure (a restart from the last checkpoint may get past it).</summary>
    public const int FailureExitCode = 1;

    private const int PrSetPdeathsig = 1;
    private const int Sigkill = 9;

    /// <summary>The pid of the agent that started this process as a worker, or null when no agent did.</summary>
    public static int? Parent(Func<string, string?>? environment = null) =>
        int.TryParse((environment ?? Environment.GetEnvironmentVariable)(ParentPidVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;

    /// <summary>
    /// Under an agent (see <see cref="Parent"/>), on Linux: asks the kernel to SIGKILL this process when its parent dies
    /// (<c>prctl(PR_SET_PDEATHSIG, SIGKILL)</c>, which reaches a stopped process too, where closing stdin does not), then
    /// checks that the parent is still the agent that started it: if that agent died before the request, this process
    /// was already handed to another parent and ends now through <paramref name="exit"/>.
    /// </summary>
    /// <returns>Whether the process is bound to its parent.</returns>
    public static bool DieWithParent(Action<int> exit, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(exit);
        ArgumentNullException.ThrowIfNull(error);
        if (Parent() is not { } expected || !OperatingSystem.IsLinux())
        {
            return false;
        }

        if (prctl(PrSetPdeathsig, Sigkill, 0, 0, 0) != 0)
        {
            error.WriteLine($"warning: prctl(PR_SET_PDEATHSIG) failed (errno {Marshal.GetLastPInvokeError()}): this worker will not die with its agent if it is stopped");
            return false;
        }

        var parent = getppid();
        if (parent != expected)
        {
            error.WriteLine($"the agent that started this worker (pid {expected}) is gone (the parent is now pid {parent}): exiting");
            error.Flush();
            exit(FailureExitCode);
        }

        return true;
    }

    /// <summary>Whether <paramref name="error"/> would fail the same way on a restart: a job key, a missing or unreadable dataset or file, a bad option.</summary>
    public static bool IsDeterministic(Exception error) => error is ConfigException or FileNotFoundException or DirectoryNotFoundException or ParquetFormatException
        or InvalidDataException or ArgumentException;

    /// <summary>
    /// The exit code of a worker that fails with <paramref name="error"/>: <see cref="ConfigurationErrorExitCode"/> for a
    /// deterministic one, else <see cref="FailureExitCode"/>. Under an agent the error also goes to it as a message on
    /// <paramref name="output"/> (the coordinator shows it as the job's error).
    /// </summary>
    public static int ExitCodeFor(Exception error, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(output);
        if (Parent() is null)
        {
            return FailureExitCode;
        }

        output.WriteLine(WorkerMessages.Line(new WorkerMessage { Error = error.Message }));
        output.Flush();
        return IsDeterministic(error) ? ConfigurationErrorExitCode : FailureExitCode;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc")]
    private static partial int getppid();
}
