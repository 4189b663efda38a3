using System.Globalization;
using System.Text;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>The checkpoint ledger over a real store: the <c>latest</c> pointer of the DiT stage's checkpoints, fenced with <see cref="CheckpointFence"/>.</summary>
/// <param name="store">The job's store (its root: the checkpoints are under <paramref name="root"/>, the markers under <c>control/</c>).</param>
/// <param name="root">The checkpoints' directory in the store.</param>
public sealed class StoreCheckpointLedger(ICheckpointStore store, string root) : ICheckpointLedger
{
    /// <summary>The folder of the coordinator's markers in the store.</summary>
    public const string ControlFolder = "control";

    private readonly CheckpointFence _fence = new(store, new CheckpointLayout(root));

    public string Location => $"{store.Location}/{root}";

    public async Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default) =>
        Convert(await _fence.ReadAsync(cancellationToken).ConfigureAwait(false));

    public async Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default) =>
        Convert(await _fence.AdvanceAsync(round, cancellationToken).ConfigureAwait(false))!;

    public async Task<StoreMarker?> WriteRoundMarkerAsync(long round, CancellationToken cancellationToken = default)
    {
        if (store is not LocalDirectoryStore directory)
        {
            return null;
        }

        var name = MarkerName(round);
        var nonce = JobKey.NewNonce();
        await store.PutBytesAsync(name, Encoding.ASCII.GetBytes(nonce), cancellationToken: cancellationToken).ConfigureAwait(false);
        await foreach (var old in store.ListAsync($"{ControlFolder}/round-", cancellationToken).ConfigureAwait(false))
        {
            if (old.Name != name && old.Name.EndsWith(".nonce", StringComparison.Ordinal))
            {
                await store.DeleteAsync(old.Name, cancellationToken).ConfigureAwait(false);
            }
        }

        return new StoreMarker(directory.PathOf(name), nonce);
    }

    /// <summary>The marker of <paramref name="round"/> in the store.</summary>
    public static string MarkerName(long round) => $"{ControlFolder}/round-{round.ToString(CultureInfo.InvariantCulture)}.nonce";

    private static CommittedCheckpoint? Convert(LatestPointer? pointer) =>
        pointer is null ? null : new CommittedCheckpoint(pointer.HasCheckpoint ? pointer.Step : 0, pointer.Round, null);
}
