using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// The coordinator's side of round fencing: before round R starts, <see cref="AdvanceAsync"/> moves the round held by
/// <c>latest</c> to R (keeping the step it names). Every fence changes the pointer's ETag, so a writer of an older round
/// that read the pointer before the fence fails its If-Match put, and one that reads it after sees the newer round and
/// is refused (<see cref="CheckpointCommitter"/>): a worker of an ended round never moves <c>latest</c> again.
/// </summary>
public sealed class CheckpointFence(ICheckpointStore store, CheckpointLayout? layout = null)
{
    // A lost race means another writer moved latest in between; each retry re-reads it, and writers of older rounds
    // lose from then on, so a handful of attempts is plenty. The bound only turns a livelock into an error.
    private const int MaxAttempts = 16;

    /// <summary>The layout whose <c>latest</c> is fenced.</summary>
    public CheckpointLayout Layout { get; } = layout ?? new CheckpointLayout();

    /// <summary>The pointer as stored (a "no checkpoint yet" one included, see <see cref="LatestPointer.HasCheckpoint"/>), or null when there is none.</summary>
    public Task<LatestPointer?> ReadAsync(CancellationToken cancellationToken = default) =>
        LatestPointer.ReadAsync(store, Layout, cancellationToken);

    /// <summary>
    /// Moves <c>latest</c>'s round to <paramref name="round"/> keeping its step (If-Match, re-read and retried when
    /// another writer won the race), or in an empty store writes "no checkpoint yet, round <paramref name="round"/>"
    /// (If-None-Match). Throws <see cref="StaleRoundException"/> when the stored round is already
    /// <paramref name="round"/> or newer (a second coordinator), and <see cref="CheckpointFormatException"/> when the
    /// pointer cannot be read (it is never overwritten blindly: that could hide the last committed checkpoint).
    /// </summary>
    /// <returns>The pointer written, with its new ETag.</returns>
    public async Task<LatestPointer> AdvanceAsync(long round, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(round, 1);
        for (var attempt = 1; ; attempt++)
        {
            var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Round >= round)
            {
                throw new StaleRoundException(round, null, current.Round, Layout.Latest, store.Location);
            }

            var fenced = current is null ? LatestPointer.NoCheckpoint(round) : current with { Round = round, ETag = null };
            var condition = current is null ? PutCondition.IfNotExists : PutCondition.IfMatch(current.ETag!);
            try
            {
                var stored = await store.PutBytesAsync(Layout.Latest, fenced.ToJson(), condition, cancellationToken).ConfigureAwait(false);
                return fenced with { ETag = stored.ETag };
            }
            catch (PreconditionFailedException) when (attempt < MaxAttempts)
            {
                // Another writer moved latest between our read and our put: read it again.
            }
            catch (PreconditionFailedException lost)
            {
                throw new CheckpointStoreException($"cannot fence round {round}: '{Layout.Latest}' in {store.Location} kept changing under {MaxAttempts} attempts", Layout.Latest, innerException: lost);
            }
        }
    }
}
