namespace Sora.Cluster.Coordinator;

/// <summary>Asks the coordinator for a <see cref="JobStatus"/>.</summary>
public sealed record GetStatus
{
    public static readonly GetStatus Instance = new();
}

/// <summary>A graceful stop of the whole job: the workers agree on a step, checkpoint it, and exit (<c>sora stop</c>).</summary>
public sealed record StopJob(string Reason);

/// <summary>The answer to <see cref="StopJob"/>: whether the stop was taken (false when the job already ended).</summary>
public sealed record StopAccepted(bool Accepted, string Message);

/// <summary>How the job ended, completed by the coordinator; the hosting process exits with it.</summary>
public sealed class JobOutcome
{
    private readonly TaskCompletionSource<(bool Success, string Message)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<(bool Success, string Message)> Task => _done.Task;

    public void Complete(bool success, string message) => _done.TrySetResult((success, message));
}

/// <summary>Where the coordinator reports what happens to the job (rounds, failures, restarts), one line each.</summary>
public interface IJobEvents
{
    void Report(string message);
}

/// <summary>
/// Job events written to a text writer with a time stamp (taken when the event happens). The writing is done by a
/// thread of its own, so an actor that reports an event never waits on the console; <see cref="Dispose"/> writes what
/// is still queued (call it before printing anything after the job's events).
/// </summary>
public sealed class WriterJobEvents : IJobEvents, IDisposable
{
    // (Not SingleReader: only the general unbounded channel counts what it holds.)
    private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly Thread _writer;

    public WriterJobEvents(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var lines = _lines.Reader;
        _writer = new Thread(() =>
        {
            foreach (var line in lines.ReadAllAsync().ToBlockingEnumerable())
            {
                writer.WriteLine(line);
                if (lines.Count == 0)
                {
                    writer.Flush();
                }
            }

            writer.Flush();
        })
        { IsBackground = true, Name = "job events" };
        _writer.Start();
    }

    public void Report(string message) => _lines.Writer.TryWrite($"[{DateTime.Now:HH:mm:ss.fff}] {message}");

    /// <summary>Writes what is queued, then stops (later events are dropped).</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Join();
    }
}
