namespace Sora.Distributed.Training;

/// <summary>
/// A graceful stop asked of a running job from outside the training loop (an agent's control line, a signal). Any
/// thread may call <see cref="RequestStop"/>; the trainer reads the flag once per step and every rank agrees on the
/// step to stop at, then checkpoints it and leaves the loop. The first reason given is kept.
/// </summary>
public sealed class TrainingControl
{
    private string? _reason;

    /// <summary>Whether a stop was requested.</summary>
    public bool IsStopRequested => Volatile.Read(ref _reason) is not null;

    /// <summary>Why the stop was requested (the first request's reason), or null.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Asks the job to stop after the current step; later requests keep the first reason.</summary>
    public void RequestStop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Interlocked.CompareExchange(ref _reason, reason, null);
    }
}
