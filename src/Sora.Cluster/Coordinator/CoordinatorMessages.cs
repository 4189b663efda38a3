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

/// <summary>Job events written to a text writer with a time stamp.</summary>
public sealed class WriterJobEvents(TextWriter writer) : IJobEvents
{
    private readonly object _gate = new();

    public void Report(string message)
    {
        lock (_gate)
        {
            writer.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {message}");
            writer.Flush();
        }
    }
}
