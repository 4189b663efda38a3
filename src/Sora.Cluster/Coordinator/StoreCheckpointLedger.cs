using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The checkpoint ledger over the job's store: the <c>latest</c> pointer of every training stage (<paramref name="stages"/>,
/// in training order: the VAE's, then the DiT's), each fenced with <see cref="CheckpointFence"/> before a round starts, so
/// no worker of an ended round commits to any stage. The job is where its furthest stage with a checkpoint is.
/// </summary>
public sealed class StoreCheckpointLedger(ICheckpointStore store, params string[] stages) : ICheckpointLedger
{
    private readonly (string Stage, CheckpointFence Fence)[] _fences = stages.Length > 0
        ? [.. stages.Select(root => (StageOf(root), new CheckpointFence(store, new CheckpointLayout(root))))]
        : throw new ArgumentException("a ledger needs at least one stage's checkpoint folder", nameof(stages));

    public string Location => store.Location;

    public async Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pointers = new List<LatestPointer?>();
        foreach (var (_, fence) in _fences)
        {
            pointers.Add(await fence.ReadAsync(cancellationToken).ConfigureAwait(false));
        }

        return Furthest(pointers);
    }

    public async Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default)
    {
        var pointers = new List<LatestPointer?>();
        foreach (var (_, fence) in _fences)
        {
            pointers.Add(await fence.AdvanceAsync(round, cancellationToken).ConfigureAwait(false));
        }

        return Furthest(pointers)!;
    }

    /// <summary>The furthest stage's checkpoint (step 0 when no stage has one; null when nothing was ever fenced or committed).</summary>
    private CommittedCheckpoint? Furthest(List<LatestPointer?> pointers)
    {
        if (pointers.All(p => p is null))
        {
            return null;
        }

        var round = pointers.Max(p => p?.Round ?? 0);
        for (var i = pointers.Count - 1; i >= 0; i--)
        {
            if (pointers[i] is { HasCheckpoint: true } pointer)
            {
                return new CommittedCheckpoint(pointer.Step, round, null) { Stage = _fences[i].Stage };
            }
        }

        return new CommittedCheckpoint(0, round, null) { Stage = _fences[0].Stage };
    }

    /// <summary><c>vae/checkpoints</c> → <c>vae</c>.</summary>
    private static string StageOf(string root) => root.Split('/')[0];
}
