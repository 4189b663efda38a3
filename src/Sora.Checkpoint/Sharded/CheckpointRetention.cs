using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>What a prune keeps and deletes: complete checkpoints by step, and step folders no manifest completed.</summary>
public sealed record RetentionPlan(IReadOnlyList<long> Keep, IReadOnlyList<long> Delete, IReadOnlyList<long> Incomplete, long? Latest);

/// <summary>
/// Keeps the last <see cref="KeepLast"/> complete checkpoints plus every step that is a multiple of
/// <see cref="KeepEvery"/> (0: none), and always the one <c>latest</c> names; deletes the other complete ones and
/// the leftovers of crashed saves (step folders without a manifest) older than <c>latest</c>. Newer folders without a
/// manifest are left alone: a save may be writing them. A checkpoint is deleted manifest first, so a prune that
/// stops half way leaves shards no manifest names, never a manifest whose shards are gone.
/// </summary>
public sealed class CheckpointRetention(ICheckpointStore store, CheckpointLayout? layout = null)
{
    /// <summary>The layout objects are read from.</summary>
    public CheckpointLayout Layout { get; } = layout ?? new CheckpointLayout();

    /// <summary>How many of the newest complete checkpoints to keep (at least 1).</summary>
    public int KeepLast { get; init; } = 3;

    /// <summary>Keep also every step divisible by this (0 keeps none this way).</summary>
    public long KeepEvery { get; init; }

    /// <summary>Decides without deleting.</summary>
    public async Task<RetentionPlan> PlanAsync(CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepLast, 1, nameof(KeepLast));
        ArgumentOutOfRangeException.ThrowIfNegative(KeepEvery, nameof(KeepEvery));
        var reader = new ShardedCheckpointReader(store, Layout);
        // A pointer that cannot be read protects nothing but must not let the prune run blind: fail.
        var latest = (await reader.ReadLatestAsync(cancellationToken).ConfigureAwait(false))?.Step;
        var folders = await reader.ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        var complete = folders.Where(f => f.HasManifest).Select(f => f.Step).ToList();
        var keep = Enumerable.Reverse(complete).Take(KeepLast).ToHashSet();
        keep.UnionWith(complete.Where(s => KeepEvery > 0 && s % KeepEvery == 0));
        if (latest is { } l)
        {
            keep.Add(l);
        }

        var delete = complete.Where(s => !keep.Contains(s)).ToList();
        var incomplete = folders.Where(f => !f.HasManifest && latest is { } l2 && f.Step < l2).Select(f => f.Step).ToList();
        return new RetentionPlan([.. keep.Order()], delete, incomplete, latest);
    }

    /// <summary>Applies <see cref="PlanAsync"/>: deletes each checkpoint's manifest, then its other objects.</summary>
    public async Task<RetentionPlan> PruneAsync(CancellationToken cancellationToken = default)
    {
        var plan = await PlanAsync(cancellationToken).ConfigureAwait(false);
        foreach (var step in plan.Delete.Concat(plan.Incomplete))
        {
            await store.DeleteAsync(Layout.Manifest(step), cancellationToken).ConfigureAwait(false);
            var rest = new List<string>();
            await foreach (var item in store.ListAsync(Layout.StepPrefixOf(step), cancellationToken).ConfigureAwait(false))
            {
                rest.Add(item.Name);
            }

            foreach (var name in rest)
            {
                await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }

        return plan;
    }
}
