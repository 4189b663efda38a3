using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Rank 0's half of a save: once every rank's shard is in the store and their <see cref="ShardInfo"/>s have been
/// gathered (e.g. as <see cref="ShardInfo.ToJson"/> strings through the TCPStore), builds the manifest, writes it,
/// then moves <c>latest</c> to it with a conditional put. The order makes the pointer the commit point: a crash
/// before the manifest leaves shards no manifest names; a crash before the pointer leaves a complete checkpoint
/// that <c>latest</c> does not name yet. Neither is ever loaded as the latest. Commits are fenced by
/// <see cref="Round"/>: a writer whose round is older than the one <c>latest</c> holds is refused with
/// <see cref="StaleRoundException"/> (see <see cref="CheckpointFence"/>), and a writer of round W &gt; 0 commits only
/// where the fence of round W is visible (<see cref="FenceNotVisibleException"/> otherwise): a store no coordinator
/// fenced, such as a node's own directory, never accepts a launched job's commit.
/// </summary>
/// <param name="store">Where the checkpoint is.</param>
/// <param name="layout">Its layout (default: under <c>checkpoints</c>).</param>
/// <param name="time">The clock of the manifest's timestamp.</param>
/// <param name="round">The writer's round (0: unfenced, refused only once a fence has moved the job past round 0).</param>
public sealed class CheckpointCommitter(ICheckpointStore store, CheckpointLayout? layout = null, TimeProvider? time = null, long round = 0)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The layout objects are written in.</summary>
    public CheckpointLayout Layout { get; } = layout ?? new CheckpointLayout();

    /// <summary>The round this writer belongs to; its commits carry it into <c>latest</c>.</summary>
    public long Round { get; } = round >= 0 ? round : throw new ArgumentOutOfRangeException(nameof(round), round, "a round is 0 or more");

    /// <summary>Parses the other ranks' shard infos (as exchanged between processes) and commits.</summary>
    public Task<CheckpointManifest> CommitAsync(CheckpointContents header, IEnumerable<string> shardInfoJson, CancellationToken cancellationToken = default) =>
        CommitAsync(header, shardInfoJson.Select((json, i) => ShardInfo.FromJson(json, $"shard info #{i}")).ToList(), cancellationToken);

    /// <summary>Builds and writes the manifest, then points <c>latest</c> at it.</summary>
    public async Task<CheckpointManifest> CommitAsync(CheckpointContents header, IReadOnlyList<ShardInfo> shards, CancellationToken cancellationToken = default)
    {
        var manifest = BuildManifest(header, shards);
        // Checked before the manifest too, so that an ended round does not even replace a manifest a newer round
        // may have written at the same step; the commit point itself is guarded again below.
        await ThrowIfStaleAsync(manifest.Step, cancellationToken).ConfigureAwait(false);
        await WriteManifestAsync(manifest, cancellationToken).ConfigureAwait(false);
        await UpdateLatestAsync(manifest.Step, cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    /// <summary>
    /// The manifest for <paramref name="header"/>'s step from all ranks' shard infos. Checks one info per rank, the
    /// same step and world size everywhere, the same shape, dtype and kind of each tensor on every rank, and that the
    /// ranges cover every tensor with no gap. Ranges held by several ranks (replicated tensors) are read from the
    /// lowest rank that holds them.
    /// </summary>
    public CheckpointManifest BuildManifest(CheckpointContents header, IReadOnlyList<ShardInfo> shards)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(shards);
        var byRank = new ShardInfo?[header.WorldSize];
        foreach (var shard in shards)
        {
            var at = $"step {header.Step}: shard info of rank {shard.Rank}";
            if (shard.Step != header.Step || shard.WorldSize != header.WorldSize)
            {
                throw new ArgumentException($"{at} is for step {shard.Step} of world size {shard.WorldSize}, not step {header.Step} of world size {header.WorldSize}");
            }

            if (shard.Rank < 0 || shard.Rank >= header.WorldSize || byRank[shard.Rank] is not null)
            {
                throw new ArgumentException($"{at}: rank out of range or given twice");
            }

            if (shard.Object != CheckpointLayout.ShardFileName(shard.Rank, shard.WorldSize))
            {
                throw new ArgumentException($"{at}: object '{shard.Object}' is not '{CheckpointLayout.ShardFileName(shard.Rank, shard.WorldSize)}'");
            }

            if (shard.ChunkBytes is null or < 1)
            {
                throw new ArgumentException($"{at}: no chunk size for its digest; format version {CheckpointManifest.CurrentFormatVersion} hashes shards in chunks (ShardDigest)");
            }

            byRank[shard.Rank] = shard;
        }

        var missing = Enumerable.Range(0, header.WorldSize).Where(r => byRank[r] is null).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"step {header.Step}: no shard info from rank(s) {string.Join(", ", missing)} of {header.WorldSize}");
        }

        var tensors = new List<ManifestTensor>();
        foreach (var group in byRank.SelectMany(s => s!.Entries.Select(e => (s!.Rank, Entry: e))).GroupBy(x => x.Entry.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            tensors.Add(Pieces(header.Step, group.Key, [.. group]));
        }

        var manifest = new CheckpointManifest(
            CheckpointManifest.CurrentFormatVersion,
            header.Step,
            header.WorldSize,
            header.ConfigHash,
            _time.GetUtcNow(),
            header.SchedulePosition,
            header.DataCursor,
            header.Metadata?.ToDictionary(StringComparer.Ordinal) ?? [],
            byRank.Select(s => new ManifestShard(s!.Rank, s.Object, s.Sha256, s.Size, s.GeneratorStates, s.ChunkBytes)).ToList(),
            tensors);
        return manifest;
    }

    /// <summary>Writes the manifest (replacing one a crashed attempt at the same step may have left).</summary>
    public async Task<StoredObject> WriteManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        // Round-trip through the reader's validation so that a manifest this code cannot load is never written.
        var json = manifest.ToJson();
        CheckpointManifest.Parse(json, Layout.Manifest(manifest.Step));
        return await store.PutBytesAsync(Layout.Manifest(manifest.Step), json, PutCondition.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Points <c>latest</c> at <paramref name="step"/>'s manifest, carrying <see cref="Round"/>: If-Match the ETag of the
    /// version read, or If-None-Match on the first commit. Throws <see cref="StaleRoundException"/> when the pointer read
    /// (or the one that won a race) holds a newer round, and <see cref="PreconditionFailedException"/> when another
    /// writer of the same round moved it meanwhile. Nothing is written in either case.
    /// </summary>
    public async Task<LatestPointer> UpdateLatestAsync(long step, CancellationToken cancellationToken = default)
    {
        var manifestName = Layout.Manifest(step);
        if (!await store.ExistsAsync(manifestName, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"cannot point '{Layout.Latest}' at step {step}: its manifest '{manifestName}' is not in {store.Location}");
        }

        var etag = await ThrowIfStaleAsync(step, cancellationToken).ConfigureAwait(false);
        var pointer = new LatestPointer(step, manifestName) { Round = Round };
        var condition = etag is null ? PutCondition.IfNotExists : PutCondition.IfMatch(etag);
        try
        {
            var stored = await store.PutBytesAsync(Layout.Latest, pointer.ToJson(), condition, cancellationToken).ConfigureAwait(false);
            return pointer with { ETag = stored.ETag };
        }
        catch (PreconditionFailedException lost)
        {
            // Someone moved latest between the read and the put: a fence (then say so) or a writer of this round.
            var winner = await TryReadPointerAsync(cancellationToken).ConfigureAwait(false);
            if (winner is not null && winner.Round > Round)
            {
                throw new StaleRoundException(Round, step, winner.Round, Layout.Latest, store.Location, lost);
            }

            throw;
        }
    }

    /// <summary>
    /// Names the stage's outputs in <c>latest</c> (which must point at <paramref name="step"/>, the stage's last): the
    /// outputs' objects are already in the store, and this fenced compare-and-swap commits them. Refused like a
    /// checkpoint commit for a stale or unfenced round.
    /// </summary>
    public async Task<LatestPointer> CommitOutputsAsync(long step, IReadOnlyDictionary<string, StageOutput> outputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        foreach (var output in outputs.Values)
        {
            if (!await store.ExistsAsync(output.Object, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"cannot commit the outputs of step {step}: '{output.Object}' is not in {store.Location}");
            }
        }

        var current = await ReadCheckedAsync(step, cancellationToken).ConfigureAwait(false);
        if (current is not { HasCheckpoint: true } || current.Step != step)
        {
            throw new InvalidOperationException($"cannot commit the outputs of step {step}: '{Layout.Latest}' in {store.Location} names step {current?.Step ?? 0}, not {step}");
        }

        var pointer = current with { Outputs = outputs.ToDictionary(StringComparer.Ordinal), Round = Round, ETag = null };
        var stored = await store.PutBytesAsync(Layout.Latest, pointer.ToJson(), PutCondition.IfMatch(current.ETag!), cancellationToken).ConfigureAwait(false);
        return pointer with { ETag = stored.ETag };
    }

    /// <summary>
    /// Reads <c>latest</c> and throws <see cref="StaleRoundException"/> when its round is newer than <see cref="Round"/>,
    /// or <see cref="FenceNotVisibleException"/> when this writer is fenced (round &gt; 0) and the pointer does not hold its
    /// round; returns the ETag to put against (null when there is no pointer). A pointer that cannot be parsed is replaced
    /// (its ETag returned) by an unfenced writer, as before rounds existed; a fenced writer cannot tell its round and fails.
    /// </summary>
    private async Task<string?> ThrowIfStaleAsync(long step, CancellationToken cancellationToken) =>
        (await ReadCheckedAsync(step, cancellationToken).ConfigureAwait(false))?.ETag;

    private async Task<LatestPointer?> ReadCheckedAsync(long step, CancellationToken cancellationToken)
    {
        LatestPointer? current;
        try
        {
            current = await LatestPointer.ReadAsync(store, Layout, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointFormatException) when (Round == 0)
        {
            return (await store.GetPropertiesAsync(Layout.Latest, cancellationToken).ConfigureAwait(false)) is { } properties
                ? new LatestPointer(0, null, properties.ETag)
                : null;
        }

        if (current is not null && current.Round > Round)
        {
            throw new StaleRoundException(Round, step, current.Round, Layout.Latest, store.Location);
        }

        if (Round > 0 && current?.Round != Round)
        {
            throw new FenceNotVisibleException(Round, step, current?.Round, Layout.Latest, store.Location);
        }

        return current;
    }

    private async Task<LatestPointer?> TryReadPointerAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await LatestPointer.ReadAsync(store, Layout, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointFormatException)
        {
            return null;
        }
    }

    private static ManifestTensor Pieces(long step, string name, List<(int Rank, ShardEntry Entry)> holders)
    {
        var first = holders[0].Entry;
        foreach (var (rank, entry) in holders)
        {
            if (!entry.Shape.SequenceEqual(first.Shape) || entry.DType != first.DType || entry.Kind != first.Kind)
            {
                throw new ArgumentException($"step {step}: tensor '{name}' is {entry.Kind.Name()} {entry.DType.Name()} [{string.Join(", ", entry.Shape)}] on rank {rank} but {first.Kind.Name()} {first.DType.Name()} [{string.Join(", ", first.Shape)}] on rank {holders[0].Rank}");
            }
        }

        var numel = first.Shape.Aggregate(1L, (a, b) => checked(a * b));
        var elementSize = first.DType.ElementSize();
        var pieces = new List<TensorPiece>();
        long covered = 0;
        foreach (var (rank, entry) in holders.OrderBy(h => h.Entry.Start).ThenBy(h => h.Rank))
        {
            if (entry.End <= covered)
            {
                continue;
            }

            if (entry.Start > covered)
            {
                throw new ArgumentException($"step {step}: no rank holds elements [{covered}, {entry.Start}) of tensor '{name}'");
            }

            // Clip a range overlapping what lower ranges already cover.
            pieces.Add(new TensorPiece(rank, covered, entry.End, entry.Offset + ((covered - entry.Start) * elementSize)));
            covered = entry.End;
        }

        if (covered != numel)
        {
            throw new ArgumentException($"step {step}: no rank holds elements [{covered}, {numel}) of tensor '{name}'");
        }

        return new ManifestTensor(name, first.Kind, first.Shape, first.DType, pieces);
    }
}
