using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;

namespace Sora.Cluster.Coordinator;

/// <summary>The checkpoint ledger over a real store: the <c>latest</c> pointer of the DiT stage's checkpoints, fenced with <see cref="CheckpointFence"/>.</summary>
public sealed class StoreCheckpointLedger(ICheckpointStore store, string root) : ICheckpointLedger
{
    private readonly CheckpointFence _fence = new(store, new CheckpointLayout(root));

    public string Location => $"{store.Location}/{root}";

    public async Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default) =>
        Convert(await _fence.ReadAsync(cancellationToken).ConfigureAwait(false));

    public async Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default) =>
        Convert(await _fence.AdvanceAsync(round, cancellationToken).ConfigureAwait(false))!;

    private static CommittedCheckpoint? Convert(LatestPointer? pointer) =>
        pointer is null ? null : new CommittedCheckpoint(pointer.HasCheckpoint ? pointer.Step : 0, pointer.Round, null);
}
