namespace Sora.Checkpoint.Sharded;

/// <summary>
/// A writer of an ended round tried to move <c>latest</c> (a checkpoint commit), or a coordinator tried to fence a
/// round the job has already reached. Nothing was written; the message names both rounds, the step and the object.
/// </summary>
public sealed class StaleRoundException : InvalidOperationException
{
    /// <summary>A refused commit (<paramref name="step"/> given) or a refused fence (<paramref name="step"/> null).</summary>
    public StaleRoundException(long writerRound, long? step, long currentRound, string objectName, string location, Exception? inner = null)
        : base(Describe(writerRound, step, currentRound, objectName, location), inner)
    {
        WriterRound = writerRound;
        Step = step;
        CurrentRound = currentRound;
        ObjectName = objectName;
    }

    /// <summary>The round of the writer that was refused.</summary>
    public long WriterRound { get; }

    /// <summary>The step it tried to commit; null when a fence was refused.</summary>
    public long? Step { get; }

    /// <summary>The round <c>latest</c> holds.</summary>
    public long CurrentRound { get; }

    /// <summary>The pointer object (<c>…/latest</c>).</summary>
    public string ObjectName { get; }

    private static string Describe(long writerRound, long? step, long currentRound, string objectName, string location) => step is { } s
        ? $"the checkpoint of step {s} by round {writerRound} is refused: '{objectName}' in {location} is at round {currentRound}, so round {writerRound} has ended and may not move it"
        : $"cannot fence round {writerRound}: '{objectName}' in {location} is already at round {currentRound} (another coordinator reached it first)";
}
