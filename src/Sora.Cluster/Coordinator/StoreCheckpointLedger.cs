using System.Globalization;
using System.Text;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// The checkpoint ledger over the job's store: the <c>latest</c> pointer of every training stage (<paramref name="stages"/>,
/// in training order: the VAE's, then the DiT's), each fenced with <see cref="CheckpointFence"/> before a round starts, so
/// no worker of an ended round commits to any stage. The job is where its furthest stage with a checkpoint is; whether the
/// run's outputs are published is read with it (<see cref="CommittedCheckpoint.RunPublished"/>, the <see cref="RunMarker"/>
/// object). When the store is a directory it also holds the round markers (<c>control/</c>, <see cref="WriteRoundMarkerAsync"/>).
/// </summary>
public sealed class StoreCheckpointLedger(ICheckpointStore store, params string[] stages) : ICheckpointLedger
{
    /// <summary>The folder of the coordinator's markers in the store.</summary>
    public const string ControlFolder = "control";

    private readonly (string Stage, CheckpointFence Fence)[] _fences = stages.Length > 0
        ? [.. stages.Select(root => (StageOf(root), new CheckpointFence(store, new CheckpointLayout(root))))]
        : throw new ArgumentException("a ledger needs at least one stage's checkpoint folder", nameof(stages));

    public string Location => store.Location;

    /// <summary>The object a finished run publishes last into the store (null: the ledger does not check it).</summary>
    public string? RunMarker { get; init; } = Sora.Distributed.Store.JobStore.RunPrefix + Sora.Distributed.Pipelines.RunDirectory.SummaryName;

    public async Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pointers = new List<LatestPointer?>();
        foreach (var (_, fence) in _fences)
        {
            pointers.Add(await fence.ReadAsync(cancellationToken).ConfigureAwait(false));
        }

        return await WithRunPublishedAsync(Furthest(pointers), cancellationToken).ConfigureAwait(false);
    }

    public async Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default)
    {
        var pointers = new List<LatestPointer?>();
        foreach (var (_, fence) in _fences)
        {
            pointers.Add(await fence.AdvanceAsync(round, cancellationToken).ConfigureAwait(false));
        }

        return (await WithRunPublishedAsync(Furthest(pointers), cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<CommittedCheckpoint?> WithRunPublishedAsync(CommittedCheckpoint? furthest, CancellationToken cancellationToken) =>
        furthest is null || RunMarker is null ? furthest
            : furthest with { RunPublished = await store.GetPropertiesAsync(RunMarker, cancellationToken).ConfigureAwait(false) is not null };

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
