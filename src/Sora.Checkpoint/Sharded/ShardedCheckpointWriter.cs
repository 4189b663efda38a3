using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Writes one rank's shard object (<c>step-…/shard-0000r-of-0000n.bin</c>) and returns the <see cref="ShardInfo"/>
/// rank 0 needs for the manifest. A save is two halves: <see cref="ShardSnapshot.Capture"/> copies the tensors to
/// host memory (before the next step changes them), then <see cref="WriteShardAsync(ShardSnapshot, CancellationToken)"/>
/// hashes and uploads, which <see cref="StartWriteShard"/> runs in the background.
/// </summary>
public sealed class ShardedCheckpointWriter(ICheckpointStore store, CheckpointLayout? layout = null)
{
    /// <summary>The layout objects are written in.</summary>
    public CheckpointLayout Layout { get; } = layout ?? new CheckpointLayout();

    /// <summary>Captures and writes this rank's shard.</summary>
    public Task<ShardInfo> WriteShardAsync(CheckpointContents contents, CancellationToken cancellationToken = default) =>
        WriteShardAsync(ShardSnapshot.Capture(contents), cancellationToken);

    /// <summary>Serialises <paramref name="snapshot"/> and puts it in the store (unconditionally: a retry after a crash overwrites a shard no manifest names yet), computing its digest (<see cref="ShardDigest"/>) meanwhile.</summary>
    public async Task<ShardInfo> WriteShardAsync(ShardSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var header = snapshot.Header;
        var (headerBytes, offsets) = ShardObjectFormat.Header(snapshot);
        var segments = new List<byte[]>(snapshot.Ranges.Count + 1) { headerBytes };
        segments.AddRange(snapshot.Ranges.Select(r => r.Data));
        // The snapshot is immutable host memory, so its chunks are hashed (about 1 GB/s per core even with
        // SHA-NI) on the other cores while the store writes the same bytes, instead of before it.
        var hashing = Task.Run(() => ShardDigest.Compute(segments, cancellationToken: cancellationToken), cancellationToken);
        var name = Layout.Shard(header.Step, header.Rank, header.WorldSize);
        StoredObject stored;
        try
        {
            await using var stream = new SegmentStream(segments);
            stored = await store.PutAsync(name, stream, PutCondition.None, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Never leave the hash running over the snapshot after this method returns or throws.
            await ((Task)hashing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var sha = await hashing.ConfigureAwait(false);

        var expectedSize = segments.Sum(s => (long)s.Length);
        if (stored.Size != expectedSize)
        {
            throw new CheckpointStoreException($"shard '{name}' was stored with {stored.Size} bytes but {expectedSize} were written", name);
        }

        var entries = snapshot.Ranges.Select((r, i) => new ShardEntry(r.Name, r.Kind, r.Shape, r.DType, r.Start, r.End, offsets[i])).ToList();
        return new ShardInfo(header.Step, header.Rank, header.WorldSize, CheckpointLayout.ShardFileName(header.Rank, header.WorldSize), sha, stored.Size, entries,
            header.GeneratorStates ?? new Dictionary<string, byte[]>(), ShardDigest.ChunkBytes);
    }

    /// <summary>Starts <see cref="WriteShardAsync(ShardSnapshot, CancellationToken)"/> on the thread pool and returns at once; await the task before committing.</summary>
    public Task<ShardInfo> StartWriteShard(ShardSnapshot snapshot, CancellationToken cancellationToken = default) =>
        Task.Run(() => WriteShardAsync(snapshot, cancellationToken), cancellationToken);

    /// <summary>
    /// Writes a whole world's checkpoint from one process: every rank's shard in parallel, then the manifest and
    /// <c>latest</c> through <see cref="CheckpointCommitter"/>. For tests, tools and offline resharding.
    /// </summary>
    public async Task<CheckpointManifest> WriteWorldAsync(IReadOnlyList<CheckpointContents> ranks, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        if (ranks.Count == 0)
        {
            throw new ArgumentException("a checkpoint needs at least one rank", nameof(ranks));
        }

        var snapshots = ranks.Select(r => ShardSnapshot.Capture(r)).ToList();
        var infos = await Task.WhenAll(snapshots.Select(s => StartWriteShard(s, cancellationToken))).ConfigureAwait(false);
        var committer = new CheckpointCommitter(store, Layout, time);
        var rank0 = snapshots.FirstOrDefault(s => s.Header.Rank == 0) ?? throw new ArgumentException("no contents for rank 0", nameof(ranks));
        return await committer.CommitAsync(rank0.Header, infos, cancellationToken).ConfigureAwait(false);
    }
}
