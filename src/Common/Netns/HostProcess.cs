using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Sora.Netns;

/// <summary>
/// A program running inside one host of a <see cref="NetnsCluster"/> (the host's network and mount namespaces):
/// its output (stdout and stderr, one stream of lines) goes to a log file and stays in memory, and it can be
/// killed, stopped, frozen and thawed.
/// </summary>
internal sealed partial class HostProcess : IDisposable
{
    /// <summary>Lines kept in memory; the log file has them all.</summary>
    public const int MaxLinesKept = 10_000;

    private const int Sigkill = 9;
    private const int Sigterm = 15;
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    private static readonly TimeSpan ExecTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartFailureOutputTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly Queue<string> _lines = new();
    private readonly List<(Func<string, bool> Matches, TaskCompletionSource<string?> Found)> _waiters = [];
    private int _openStreams = 2;
    private int _disposed;
    private bool _logClosed;
    private int? _exitCodeAfterDispose;

    private HostProcess(int host, string @namespace, string fileName, string workingDirectory, string logFile, Process process, StreamWriter log)
    {
        Host = host;
        Namespace = @namespace;
        FileName = fileName;
        WorkingDirectory = workingDirectory;
        LogFile = logFile;
        _process = process;
        _log = log;
    }

    public int Host { get; }

    public string Namespace { get; }

    public string FileName { get; }

    /// <summary>The program's working directory, as the host sees it (a private directory is the host's own copy).</summary>
    public string WorkingDirectory { get; }

    public string LogFile { get; }

    /// <summary>
    /// The program's own process id: <c>nsenter</c> enters the host's namespaces and execs <c>env</c>, which changes
    /// to the working directory and execs the program in the same process; <see cref="Start"/> returns only once
    /// that last exec has happened.
    /// </summary>
    public int Pid { get; private set; }

    public bool HasExited => _exitCodeAfterDispose is not null || _process.HasExited;

    /// <summary>The exit code once the program has exited (128 + the signal's number when a signal ended it), else null.</summary>
    public int? ExitCode => _exitCodeAfterDispose ?? (HasExited ? _process.ExitCode : null);

    /// <summary>The output kept in memory (the last <see cref="MaxLinesKept"/> lines).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>The state letter of /proc/PID/stat: R running, S sleeping, T stopped (frozen), Z exited but not yet reaped.</summary>
    public char State
    {
        get
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{Pid}/stat");
            }
            catch (IOException) when (HasExited)
            {
                throw new InvalidOperationException($"{Describe()} has exited with code {ExitCode}: it has no state");
            }

            // "PID (COMM) STATE ...": COMM may itself hold spaces and parentheses, so the state follows the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
    }

    /// <summary>The last <paramref name="count"/> lines of output.</summary>
    public string Tail(int count = 20)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
        }
    }

    /// <summary>SIGKILL: the program ends at once. Does nothing once it has exited.</summary>
    public void Kill() => Signal(Sigkill, "SIGKILL", mustBeRunning: false);

    /// <summary>SIGTERM: asks the program to end gracefully. Does nothing once it has exited.</summary>
    public void Stop() => Signal(Sigterm, "SIGTERM", mustBeRunning: false);

    /// <summary>SIGSTOP: the program stops running (state T) but stays alive and keeps its connections.</summary>
    public void Freeze() => Signal(Sigstop, "SIGSTOP", mustBeRunning: true);

    /// <summary>SIGCONT: a frozen program runs again.</summary>
    public void Thaw() => Signal(Sigcont, "SIGCONT", mustBeRunning: true);

    /// <summary>Waits for an output line that <paramref name="matches"/> (lines already seen count) and returns it.</summary>
    /// <exception cref="TimeoutException">No line matched within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The program ended its output first.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> matches, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(matches);
        var found = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _lines.FirstOrDefault(matches);
            if (seen is not null)
            {
                return seen;
            }

            if (_openStreams == 0)
            {
                found.SetResult(null);
            }
            else
            {
                _waiters.Add((matches, found));
            }
        }

        string? line;
        try
        {
            line = await found.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(waiter => waiter.Found == found);
            }

            throw new TimeoutException($"{Describe()}: no output line matched within {timeout.TotalSeconds:0.###} s. Last lines:\n{Tail()}");
        }

        if (line is not null)
        {
            return line;
        }

        // The output ended: say how the program ended, which is what the caller needs to know.
        var ending = _process.WaitForExit(TimeSpan.FromSeconds(5)) ? $"exited with code {_process.ExitCode}" : "closed its output";
        throw new InvalidOperationException($"{Describe()} {ending} before an output line matched. Last lines:\n{Tail()}");
    }

    /// <summary>Waits for the program to exit (and its output to be read) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (_exitCodeAfterDispose is { } exitCode)
        {
            return exitCode;
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"{Describe()} did not exit within {timeout.TotalSeconds:0.###} s. Last lines:\n{Tail()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the program if it still runs, then closes its log; exit code and output stay readable.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        KillTree();
        // Bounded: a daemon the program left behind may still hold its output open (NetnsCluster's down kills those).
        if (_process.WaitForExit(KillTimeout))
        {
            _exitCodeAfterDispose = _process.ExitCode;
        }

        lock (_gate)
        {
            _logClosed = true;
            _log.Dispose();
        }

        _process.Dispose();
    }

    public override string ToString() => Describe();

    internal static HostProcess Start(int host, string @namespace, string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment, string logFile,
        string workingDirectory)
    {
        var info = new ProcessStartInfo(NetnsScript.Nsenter ?? throw new InvalidOperationException("'nsenter' (util-linux) is not installed"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = NetnsScript.Env ?? throw new InvalidOperationException("'env' (coreutils) is not installed");
        foreach (var argument in (string[])[.. EnterArguments(@namespace), "--", env, "-C", workingDirectory, "--", fileName, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var hostProcess = new HostProcess(host, @namespace, fileName, workingDirectory, logFile, process, log);
        process.OutputDataReceived += (_, e) => hostProcess.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => hostProcess.OnLine(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            log.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"host {host} ({@namespace}): could not start nsenter for {fileName}: {e.Message}", e);
        }

        hostProcess.Pid = process.Id;
        // The program reads nothing from the test host's terminal or pipe.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            hostProcess.WaitUntilExecuted();
        }
        catch
        {
            hostProcess.Dispose();
            throw;
        }

        return hostProcess;
    }

    /// <summary>SIGKILL to the program and every descendant it still has (an agent and its workers). Does nothing once it has exited.</summary>
    public void KillTree()
    {
        if (HasExited)
        {
            return; // its descendants, if any are left, are NetnsCluster's down's to kill
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had already exited: nothing to kill.
        }
    }

    private string Describe() => $"host {Host} ({Namespace}): {FileName} (pid {Pid})";

    /// <summary>nsenter's options that enter host <paramref name="namespace"/>'s network and mount namespaces (files of netns.sh up).</summary>
    internal static string[] EnterArguments(string @namespace) =>
        [$"--net={NetnsScript.NetworkNamespaceDirectory}/{@namespace}", $"--mount={NetnsScript.MountNamespaceDirectory}/{@namespace}"];

    // Until env has exec'd, /proc/PID/cmdline is still "nsenter --net=... " or "env -C DIR -- ...": a signal sent
    // then would reach them, not the program. When nsenter cannot enter a namespace, or env cannot change to the
    // directory or exec the program, it exits with its message (env: 125 for the directory, 126/127 for the program).
    private void WaitUntilExecuted()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ExecTimeout)
        {
            if (_process.HasExited)
            {
                // nsenter fails with 1, env with 125-127, and neither leaves a process behind: their message is the whole
                // output. Any other ending is the program's own, and a daemon it started may hold its output open for long.
                if (_process.ExitCode is 1 or 125 or 126 or 127 && ReadToEnd(StartFailureOutputTimeout) is var output
                    && (SaidBy("nsenter", output) || (_process.ExitCode != 1 && SaidBy("env", output))))
                {
                    throw new InvalidOperationException($"host {Host} ({Namespace}): could not start {FileName} in {WorkingDirectory}: {output}");
                }

                return; // the program ran and has already ended
            }

            if (!IsStillStarting())
            {
                return;
            }

            Thread.Sleep(2);
        }

        KillTree();
        throw new TimeoutException($"host {Host} ({Namespace}): nsenter had not started {FileName} after {ExecTimeout.TotalSeconds:0} s");
    }

    // The output once the process has ended and its output is closed, or as far as it got within the timeout.
    private string ReadToEnd(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            _process.WaitForExitAsync(cancel.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Something the program started still holds its output open: what was read so far is the answer.
        }

        return Output;
    }

    // A tool's own message starts with its name ("env: ", or "/usr/bin/env: " when run by its path).
    private static bool SaidBy(string tool, string output)
    {
        var colon = output.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && Path.GetFileName(output[..colon]) == tool;
    }

    private bool IsStillStarting()
    {
        string[] argv;
        try
        {
            argv = File.ReadAllText($"/proc/{Pid}/cmdline").Split('\0');
        }
        catch (IOException)
        {
            return true; // it is exiting: HasExited decides on the next look
        }

        // An exited, unreaped process has an empty command line: HasExited decides on the next look.
        var enter = EnterArguments(Namespace);
        return argv is [""]
            || (argv.Length >= 3 && argv[1] == enter[0] && argv[2] == enter[1])
            || (argv.Length >= 4 && Path.GetFileName(argv[0]) == "env" && argv[1] == "-C" && argv[2] == WorkingDirectory && argv[3] == "--");
    }

    private void Signal(int number, string name, bool mustBeRunning)
    {
        // A child that has exited but was not yet reaped keeps its pid, so the pid cannot name another process here.
        if (_process.HasExited)
        {
            if (mustBeRunning)
            {
                throw new InvalidOperationException($"cannot send {name} to {Describe()}: it exited with code {_process.ExitCode}");
            }

            return;
        }

        if (SendSignal(Pid, number) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException($"{name} to {Describe()} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    private void OnLine(string? line)
    {
        List<TaskCompletionSource<string?>> completed = [];
        lock (_gate)
        {
            if (line is null)
            {
                if (--_openStreams == 0)
                {
                    completed.AddRange(_waiters.Select(waiter => waiter.Found));
                    _waiters.Clear();
                }
            }
            else
            {
                if (!_logClosed)
                {
                    _log.WriteLine(line);
                }

                _lines.Enqueue(line);
                if (_lines.Count > MaxLinesKept)
                {
                    _lines.Dequeue();
                }

                foreach (var waiter in _waiters.Where(waiter => waiter.Matches(line)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Found.TrySetResult(line);
                }
            }
        }

        foreach (var found in completed)
        {
            found.TrySetResult(null);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
