using Sora.Checkpoint.Stores;
using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// Loads sharded checkpoints: reads <c>latest</c> or a given step's manifest, validates it, and assembles the
/// ranges a target rank asks for from whichever source shards hold them (N → M resharding). Every shard object
/// read is streamed once and its SHA-256 and size checked against the manifest before any tensor is returned.
/// </summary>
public sealed class ShardedCheckpointReader(ICheckpointStore store, CheckpointLayout? layout = null, int parallelism = 4)
{
    /// <summary>The layout objects are read from.</summary>
    public CheckpointLayout Layout { get; } = layout ?? new CheckpointLayout();

    /// <summary>
    /// The <c>latest</c> pointer when it names a committed checkpoint; null when none was ever committed, including
    /// when a fence wrote "no checkpoint yet, round R" (<see cref="ReadPointerAsync"/> returns that one too).
    /// </summary>
    public async Task<LatestPointer?> ReadLatestAsync(CancellationToken cancellationToken = default) =>
        await ReadPointerAsync(cancellationToken).ConfigureAwait(false) is { HasCheckpoint: true } pointer ? pointer : null;

    /// <summary>The <c>latest</c> pointer as stored (with its round and ETag), or null when there is none.</summary>
    public Task<LatestPointer?> ReadPointerAsync(CancellationToken cancellationToken = default) =>
        LatestPointer.ReadAsync(store, Layout, cancellationToken);

    /// <summary>Every step folder under the layout's root, ascending, complete or not.</summary>
    public async Task<IReadOnlyList<CheckpointFolder>> ListFoldersAsync(CancellationToken cancellationToken = default)
    {
        var folders = new SortedDictionary<long, CheckpointFolder>();
        await foreach (var item in store.ListAsync(Layout.Root + "/", cancellationToken).ConfigureAwait(false))
        {
            if (Layout.StepOf(item.Name) is { } step)
            {
                var folder = folders.GetValueOrDefault(step) ?? new CheckpointFolder(step, false, 0, 0);
                folders[step] = new CheckpointFolder(step, folder.HasManifest || item.Name == Layout.Manifest(step), folder.Objects + 1, folder.Bytes + item.Size);
            }
        }

        return [.. folders.Values];
    }

    /// <summary>Steps that have a manifest (complete checkpoints, whether or not <c>latest</c> reached them), ascending.</summary>
    public async Task<IReadOnlyList<long>> ListStepsAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListFoldersAsync(cancellationToken).ConfigureAwait(false)).Where(f => f.HasManifest).Select(f => f.Step)];

    /// <summary>Reads and validates one step's manifest.</summary>
    public async Task<CheckpointManifest> ReadManifestAsync(long step, CancellationToken cancellationToken = default)
    {
        var name = Layout.Manifest(step);
        byte[] bytes;
        try
        {
            bytes = await store.ReadAllBytesAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException e)
        {
            throw new CheckpointFormatException(name, $"no manifest in {store.Location}", e);
        }

        var manifest = CheckpointManifest.Parse(bytes, name);
        if (manifest.Step != step)
        {
            throw new CheckpointFormatException(name, $"field 'step': {manifest.Step} but the manifest lies in the folder of step {step}");
        }

        return manifest;
    }

    /// <summary>Loads the tensors <paramref name="requests"/> asks for from one step's checkpoint.</summary>
    public async Task<LoadedCheckpoint> LoadAsync(long step, IReadOnlyList<TensorRequest> requests, CancellationToken cancellationToken = default)
    {
        var manifest = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(manifest, requests, verifyAllShards: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads from the checkpoint <c>latest</c> names, or returns null when there is none.</summary>
    public async Task<LoadedCheckpoint?> LoadLatestAsync(IReadOnlyList<TensorRequest> requests, CancellationToken cancellationToken = default)
    {
        var latest = await ReadLatestAsync(cancellationToken).ConfigureAwait(false);
        return latest is null ? null : await LoadAsync(latest.Step, requests, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads from the latest checkpoint that is intact: when the one <c>latest</c> names (or the pointer itself) is
    /// malformed, incomplete or corrupt, records a warning naming the object at fault and tries the next older
    /// complete checkpoint. Never considers steps newer than <c>latest</c> (they were not committed). Returns null
    /// when nothing was ever committed; throws <see cref="CheckpointFormatException"/> listing every failure when no
    /// checkpoint is usable. With <paramref name="verifyAllShards"/> every shard is hashed, not only those holding
    /// the requested ranges, so that all ranks of a job reach the same verdict (rank 0 can decide and broadcast the step).
    /// </summary>
    public async Task<LoadedCheckpoint?> LoadLatestValidAsync(IReadOnlyList<TensorRequest> requests, bool verifyAllShards = true, CancellationToken cancellationToken = default)
    {
        var warnings = new List<string>();
        long? newest;
        try
        {
            var latest = await ReadLatestAsync(cancellationToken).ConfigureAwait(false);
            if (latest is null)
            {
                return null;
            }

            newest = latest.Step;
        }
        catch (CheckpointFormatException e)
        {
            warnings.Add($"the latest pointer is unusable ({e.Message}); trying the newest complete checkpoint");
            newest = null;
        }

        var steps = await ListStepsAsync(cancellationToken).ConfigureAwait(false);
        var candidates = steps.Where(s => newest is null || s < newest).Reverse().ToList();
        if (newest is { } n)
        {
            candidates.Insert(0, n);
        }

        foreach (var step in candidates)
        {
            try
            {
                var manifest = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                return await LoadAsync(manifest, requests, verifyAllShards, warnings, cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointFormatException e)
            {
                warnings.Add($"checkpoint of step {step} is unusable: {e.Message}");
            }
        }

        throw new CheckpointFormatException(Layout.Latest, $"no usable checkpoint in {store.Location}: {string.Join("; ", warnings)}");
    }

    /// <summary>Reads every shard of <paramref name="manifest"/> and checks its size and SHA-256; returns one problem per bad shard (empty when all are intact).</summary>
    public async Task<IReadOnlyList<CheckpointFormatException>> VerifyAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var problems = new List<CheckpointFormatException>();
        var manifestObject = Layout.Manifest(manifest.Step);
        await ForEachShardAsync(manifest.Shards.Select(s => s.Rank), async rank =>
        {
            try
            {
                await ReadShardAsync(manifestObject, manifest.Shards[rank], [], cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointFormatException e)
            {
                lock (problems)
                {
                    problems.Add(e);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        return [.. problems.OrderBy(p => p.ObjectName, StringComparer.Ordinal)];
    }

    /// <summary>Assembles the requested ranges from the manifest's shards, verifying each shard read (with <paramref name="verifyAllShards"/>, every shard).</summary>
    public Task<LoadedCheckpoint> LoadAsync(CheckpointManifest manifest, IReadOnlyList<TensorRequest> requests, bool verifyAllShards = false, CancellationToken cancellationToken = default) =>
        LoadAsync(manifest, requests, verifyAllShards, [], cancellationToken);

    private async Task<LoadedCheckpoint> LoadAsync(CheckpointManifest manifest, IReadOnlyList<TensorRequest> requests, bool verifyAllShards, IReadOnlyList<string> warnings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(requests);
        var manifestObject = Layout.Manifest(manifest.Step);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            // The output tensors are allocated first and the shards read straight into them; none is handed out
            // before every shard read has passed its SHA-256 and size check.
            var copies = Plan(manifest, manifestObject, requests, tensors);
            var shardsToRead = verifyAllShards ? Enumerable.Range(0, manifest.WorldSize) : copies.Keys;
            await ForEachShardAsync(shardsToRead, rank =>
                ReadShardAsync(manifestObject, manifest.Shards[rank], copies.GetValueOrDefault(rank) ?? [], cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return new LoadedCheckpoint(manifest, manifestObject, tensors, [.. warnings]);
    }

    /// <summary>
    /// Allocates each requested tensor into <paramref name="tensors"/> (all in one huge-page mapping: filling fresh
    /// 4 KiB pages one fault at a time cost as much as hashing them) and returns, per source rank, the byte ranges of
    /// its shard that fill them.
    /// </summary>
    private static Dictionary<int, List<ShardCopy>> Plan(CheckpointManifest manifest, string manifestObject, IReadOnlyList<TensorRequest> requests, Dictionary<string, Tensor> tensors)
    {
        var planned = new List<(ManifestTensor Tensor, long Start, long End, long[] Shape)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            var tensor = manifest.Find(request.Name) ?? throw new KeyNotFoundException($"{manifestObject}: no tensor '{request.Name}' in the checkpoint of step {manifest.Step}");
            if (!names.Add(request.Name))
            {
                throw new ArgumentException($"tensor '{request.Name}' is requested twice", nameof(requests));
            }

            var start = request.Start ?? 0;
            var end = request.End ?? tensor.Numel;
            if (start < 0 || end < start || end > tensor.Numel)
            {
                throw new ArgumentOutOfRangeException(nameof(requests), $"range [{start}, {end}) of tensor '{request.Name}' is outside its {tensor.Numel} elements");
            }

            planned.Add((tensor, start, end, request.IsFull ? [.. tensor.Shape] : [end - start]));
        }

        var outputs = Tensor.EmptyShared(planned.Select(p => (p.Shape, p.Tensor.DType)).ToArray());
        for (var i = 0; i < outputs.Length; i++)
        {
            tensors[planned[i].Tensor.Name] = outputs[i].DetachFromDisposeScope();
        }

        var copies = new Dictionary<int, List<ShardCopy>>();
        foreach (var (tensor, start, end, _) in planned)
        {
            var output = tensors[tensor.Name];
            var size = tensor.DType.ElementSize();
            foreach (var piece in tensor.Pieces)
            {
                var from = Math.Max(start, piece.Start);
                var to = Math.Min(end, piece.End);
                if (from >= to)
                {
                    continue;
                }

                if (!copies.TryGetValue(piece.Rank, out var list))
                {
                    copies[piece.Rank] = list = [];
                }

                list.Add(new ShardCopy(piece.Offset + ((from - piece.Start) * size), (to - from) * size, output, (from - start) * size));
            }
        }

        return copies;
    }

    /// <summary>Runs <paramref name="read"/> for each rank's shard, at most <c>parallelism</c> at a time.</summary>
    private async Task ForEachShardAsync(IEnumerable<int> ranks, Func<int, Task> read, CancellationToken cancellationToken)
    {
        using var limit = new SemaphoreSlim(parallelism);
        await Task.WhenAll(ranks.Select(async rank =>
        {
            await limit.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await read(rank).ConfigureAwait(false);
            }
            finally
            {
                limit.Release();
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Streams one shard object once: hashes all of it and reads the planned byte ranges straight into their tensors.</summary>
    private async Task ReadShardAsync(string manifestObject, ManifestShard shard, List<ShardCopy> copies, CancellationToken cancellationToken)
    {
        var name = CheckpointManifest.ShardObjectName(manifestObject, shard);
        StoredObjectStream stream;
        try
        {
            stream = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException e)
        {
            throw new CheckpointFormatException(name, $"shard of rank {shard.Rank} named by {manifestObject} is missing from {store.Location}", e);
        }

        string actual;
        long size;
        await using (stream.ConfigureAwait(false))
        {
            (actual, size) = await ShardObjectReader.ReadAsync(stream, copies, shard.ChunkBytes, cancellationToken).ConfigureAwait(false);
        }

        if (actual != shard.Sha256 || size != shard.Size)
        {
            throw new CheckpointCorruptException(name, shard.Sha256, actual, shard.Size, size);
        }
    }
}
