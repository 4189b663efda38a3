namespace Sora.Checkpoint.Sharded;

/// <summary>
/// A writer of round W found no fence of round W on <c>latest</c> (no pointer at all, or an older round): the
/// coordinator fences every round in the job's store before it starts workers, so this writer's store is not the one
/// the coordinator fenced (typically a directory that is not shared between the nodes). Nothing was written. It fails
/// the same way on every retry: a configuration error, not a transient one.
/// </summary>
public sealed class FenceNotVisibleException : InvalidOperationException
{
    public FenceNotVisibleException(long writerRound, long step, long? storedRound, string objectName, string location)
        : base($"the checkpoint of step {step} by round {writerRound} is refused: '{objectName}' in {location} "
            + (storedRound is { } r ? $"holds round {r}" : "does not exist")
            + $", but the coordinator fenced round {writerRound} in the job's store before it started this worker: this node does not see the coordinator's store"
            + " (a directory that is not shared between the nodes?). Use a blob store (checkpoint.store: az://CONTAINER/PREFIX) or a volume shared by every node at the same path")
    {
        WriterRound = writerRound;
        StoredRound = storedRound;
    }

    /// <summary>The round of the writer that was refused.</summary>
    public long WriterRound { get; }

    /// <summary>The round the pointer holds, or null when there is no pointer.</summary>
    public long? StoredRound { get; }
}
