using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The coordinator's view of the checkpoint store: the truth it rebuilds its state from. Fencing a round makes every
/// commit from an older round fail (see docs/checkpoint-format.md).
/// </summary>
public interface ICheckpointLedger
{
    /// <summary>Where the checkpoints are (for messages).</summary>
    string Location { get; }

    /// <summary>The latest pointer (null when nothing was ever fenced or committed).</summary>
    Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>Moves the store's round to <paramref name="round"/>; returns the checkpoint the round resumes from (Step 0: none).</summary>
    Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the job's store is a directory: writes a new random nonce to <c>&lt;store&gt;/control/round-N.nonce</c> (and removes
    /// older rounds' markers) and returns its path and nonce, which every node must read back before it starts a worker
    /// (the proof that the nodes share the directory). Null for a blob store, which every node reaches by URL.
    /// </summary>
    Task<StoreMarker?> WriteRoundMarkerAsync(long round, CancellationToken cancellationToken = default);
}
