using Sora.Data.Synthetic;

namespace Sora.Data.Loading;

/// <summary>
/// Deterministic batches of samples that share a bucket (a shape: resolution × frames), so each batch
/// stacks into one tensor. Epoch e shuffles each bucket with (seed, e), cuts it into full batches of the
/// bucket's batch size, and shuffles the batches together. The order depends only on (seed, dataset),
/// and <see cref="Cursor"/> says exactly where to resume.
/// </summary>
public sealed class BucketBatchSampler<TKey>
    where TKey : notnull
{
    private readonly ulong _seed;
    private readonly IReadOnlyList<TKey> _keys;
    private readonly List<(TKey Key, int[] Members)> _buckets;
    private readonly Func<TKey, int> _batchSize;
    private List<int[]> _epochBatches = [];

    public BucketBatchSampler(IReadOnlyList<TKey> keys, Func<TKey, int> batchSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _batchSize = batchSize ?? throw new ArgumentNullException(nameof(batchSize));
        _seed = seed;
        _keys = keys;

        // Buckets in order of first appearance: deterministic for a given dataset.
        var order = new Dictionary<TKey, List<int>>();
        var keysInOrder = new List<TKey>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (!order.TryGetValue(keys[i], out var list))
            {
                order[keys[i]] = list = [];
                keysInOrder.Add(keys[i]);
            }

            list.Add(i);
        }

        _buckets = keysInOrder.Select(k => (k, order[k].ToArray())).ToList();
        if (_buckets.All(b => b.Members.Length < Math.Max(1, batchSize(b.Key))))
        {
            throw new ArgumentException(
                $"no bucket holds a full batch: sizes {string.Join(", ", _buckets.Select(b => $"{b.Key}: {b.Members.Length} samples for batches of {batchSize(b.Key)}"))}",
                nameof(keys));
        }

        Seek(new SamplerCursor(0, 0));
    }

    /// <summary>Where the next batch comes from.</summary>
    public SamplerCursor Cursor { get; private set; }

    public int BatchesPerEpoch => _epochBatches.Count;

    /// <summary>Sample indices of the next batch, all from one bucket.</summary>
    public IReadOnlyList<int> Next()
    {
        if (Cursor.Batch >= _epochBatches.Count)
        {
            Seek(new SamplerCursor(Cursor.Epoch + 1, 0));
        }

        var batch = _epochBatches[(int)Cursor.Batch];
        Cursor = Cursor with { Batch = Cursor.Batch + 1 };
        return batch;
    }

    /// <summary>
    /// Rank <paramref name="rank"/>'s slice of the next global batch (see <see cref="GlobalBatch"/>): every rank runs the
    /// same sampler, so the cursor stays global and a run resumes on any world size.
    /// </summary>
    public IReadOnlyList<int> Next(int rank, int worldSize)
    {
        var batch = Next();
        if (worldSize >= 1 && batch.Count % worldSize != 0)
        {
            throw new ArgumentException(
                $"bucket {_keys[batch[0]]}: batch size {batch.Count} is not a multiple of the world size {worldSize}; choose bucket batch sizes that divide evenly",
                nameof(worldSize));
        }

        return GlobalBatch.RankSlice(batch, rank, worldSize);
    }

    /// <summary>Continues from a saved cursor.</summary>
    public void Seek(SamplerCursor cursor)
    {
        _epochBatches = BatchesOf(cursor.Epoch);
        if (cursor.Batch < 0 || cursor.Batch > _epochBatches.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), $"epoch {cursor.Epoch} has {_epochBatches.Count} batches; cannot resume at batch {cursor.Batch}");
        }

        Cursor = cursor;
    }

    private List<int[]> BatchesOf(long epoch)
    {
        var batches = new List<int[]>();
        for (var b = 0; b < _buckets.Count; b++)
        {
            var (key, members) = _buckets[b];
            var shuffled = (int[])members.Clone();
            SeededShuffle.Shuffle<int>(shuffled, new SplitMix64(SplitMix64.Mix(_seed ^ SplitMix64.Mix((ulong)epoch * 0x9E37u + (ulong)b))));
            var size = _batchSize(key);
            for (var start = 0; start + size <= shuffled.Length; start += size)
            {
                batches.Add(shuffled[start..(start + size)]);
            }
        }

        var order = Enumerable.Range(0, batches.Count).ToArray();
        SeededShuffle.Shuffle<int>(order, new SplitMix64(SplitMix64.Mix(_seed + (ulong)epoch)));
        return order.Select(i => batches[i]).ToList();
    }
}

/// <summary>A position in the sampler's deterministic stream: epoch and batch within it.</summary>
public readonly record struct SamplerCursor(long Epoch, long Batch);
