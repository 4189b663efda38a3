using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sora.Cluster.Agent;

/// <summary>
/// Starts the agent's worker processes, all from one thread that lives as long as this process. Two reasons: starting a
/// process (fork and exec) blocks, so it must not run inside an actor's receive; and a worker asks the kernel to kill it
/// when its parent dies (<c>PR_SET_PDEATHSIG</c>), which Linux ties to the <em>thread</em> that forked it: a thread-pool
/// thread that retires when idle would take healthy workers with it.
/// </summary>
public static class ProcessStarter
{
    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> s_queue = [];
    private static readonly Thread s_thread = StartThread();

    /// <summary>Starts <paramref name="start"/>; completes with the process, or fails with why it could not start.</summary>
    public static Task<Process> StartAsync(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        GC.KeepAlive(s_thread);
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        s_queue.Add((start, started));
        return started.Task;
    }

    private static Thread StartThread()
    {
        var thread = new Thread(() =>
        {
            foreach (var (start, started) in s_queue.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
                }
                catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException or UnauthorizedAccessException)
                {
                    started.SetException(e);
                }
            }
        })
        { IsBackground = true, Name = "sora worker starter" };
        thread.Start();
        return thread;
    }
}
