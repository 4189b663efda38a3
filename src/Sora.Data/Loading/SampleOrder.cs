namespace Sora.Data.Loading;

/// <summary>
/// The global sample order of a sharded dataset: for each epoch, a permutation of all sample indices that depends
/// only on (seed, epoch, shard list, window) and never on how many ranks read it.
/// </summary>
/// <remarks>
/// Epoch e shuffles the shard list with (seed, e), cuts it into windows of <see cref="ShardWindow"/> consecutive
/// shards, and shuffles the samples of each window together with (seed, e, window). Windows follow each other, so a
/// reader needs at most the shards of one window (two at a window boundary) at a time and reads each shard's rows
/// within a short stretch of steps. The trade-off: a window of 1 reads each shard start to end in shuffled order but
/// mixes samples only within a shard; a window of all shards is a full uniform shuffle but touches every shard
/// all through the epoch. Any window keeps memory at one window's permutation (4 bytes per sample of the window).
/// </remarks>
public sealed class SampleOrder
{
    private readonly long[] _shardStart;
    private readonly object _cacheLock = new();
    private (long Epoch, int[] Shards, long[] WindowStart)? _epochCache;
    private (long Epoch, int Window, int[] Permutation)? _windowCache;

    /// <param name="shards">The dataset's shards, in dataset order.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="shardWindow">Shards whose samples are shuffled together (>= 1).</param>
    public SampleOrder(IReadOnlyList<ShardInfo> shards, ulong seed, int shardWindow)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shardWindow < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(shardWindow), $"data.shard_window must be >= 1 (got {shardWindow})");
        }

        Shards = shards;
        Seed = seed;
        ShardWindow = shardWindow;
        _shardStart = new long[shards.Count + 1];
        for (var s = 0; s < shards.Count; s++)
        {
            if (shards[s].Rows < 0)
            {
                throw new ArgumentException($"shard '{shards[s].Id}' (#{s}) reports {shards[s].Rows} rows", nameof(shards));
            }

            _shardStart[s + 1] = _shardStart[s] + shards[s].Rows;
        }

        SamplesPerEpoch = _shardStart[^1];
        if (SamplesPerEpoch == 0)
        {
            throw new ArgumentException($"the dataset's {shards.Count} shards hold no rows", nameof(shards));
        }

        Fingerprint = DatasetFingerprint.Of(shards);
    }

    public IReadOnlyList<ShardInfo> Shards { get; }

    public ulong Seed { get; }

    public int ShardWindow { get; }

    public long SamplesPerEpoch { get; }

    /// <summary>The fingerprint of <see cref="Shards"/>; see <see cref="DatasetFingerprint"/>.</summary>
    public string Fingerprint { get; }

    /// <summary>The sample at <paramref name="position"/> of epoch <paramref name="epoch"/>.</summary>
    public SampleAddress At(long epoch, long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (position < 0 || position >= SamplesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"an epoch has {SamplesPerEpoch} samples; position {position} is outside it");
        }

        lock (_cacheLock)
        {
            var (shards, windowStart) = EpochLayout(epoch);
            var window = UpperBound(windowStart, position) - 1;
            long local = Window(epoch, window, shards, windowStart)[position - windowStart[window]];

            // local indexes the window's shards laid end to end, in their shuffled order.
            var first = window * ShardWindow;
            var shard = shards[first];
            for (var k = first; local >= Shards[shard].Rows; shard = shards[++k])
            {
                local -= Shards[shard].Rows;
            }

            return new SampleAddress(_shardStart[shard] + local, shard, local);
        }
    }

    /// <summary><paramref name="count"/> samples in order from <paramref name="cursor"/>, crossing into later epochs as needed.</summary>
    public IEnumerable<SampleAddress> From(DataCursor cursor, long count)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var (epoch, position) = (cursor.Epoch, cursor.SamplesConsumed);
        for (long i = 0; i < count; i++)
        {
            if (position == SamplesPerEpoch)
            {
                (epoch, position) = (epoch + 1, 0);
            }

            yield return At(epoch, position++);
        }
    }

    /// <summary>The cursor <paramref name="samples"/> samples after <paramref name="cursor"/>.</summary>
    public DataCursor Advance(DataCursor cursor, long samples)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        var total = cursor.SamplesConsumed + samples;
        return cursor with { Epoch = cursor.Epoch + (total / SamplesPerEpoch), SamplesConsumed = total % SamplesPerEpoch };
    }

    /// <summary>A cursor at the start of epoch 0 for this order.</summary>
    public DataCursor Start() => new(Seed, ShardWindow, Fingerprint, Epoch: 0, SamplesConsumed: 0);

    /// <summary>Throws <see cref="DataCursorMismatchException"/> when <paramref name="cursor"/> was not written for this order.</summary>
    public void Check(DataCursor cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.Fingerprint != Fingerprint)
        {
            throw new DataCursorMismatchException(
                $"the data cursor was written for dataset {cursor.Fingerprint} but the dataset now is {Fingerprint} " +
                $"({Shards.Count} shards, {SamplesPerEpoch} samples): shards were added, removed, reordered or rewritten, so the saved position means nothing here");
        }

        if (cursor.Seed != Seed || cursor.ShardWindow != ShardWindow)
        {
            throw new DataCursorMismatchException(
                $"the data cursor was written with seed {cursor.Seed} and shard window {cursor.ShardWindow}, but the loader uses seed {Seed} " +
                $"and shard window {ShardWindow}: the sample order would differ, so the run could not resume where it stopped");
        }

        if (cursor.Epoch < 0 || cursor.SamplesConsumed < 0 || cursor.SamplesConsumed >= SamplesPerEpoch)
        {
            throw new DataCursorMismatchException(
                $"the data cursor (epoch {cursor.Epoch}, {cursor.SamplesConsumed} samples consumed) is outside an epoch of {SamplesPerEpoch} samples");
        }
    }

    private (int[] Shards, long[] WindowStart) EpochLayout(long epoch)
    {
        if (_epochCache is { } cached && cached.Epoch == epoch)
        {
            return (cached.Shards, cached.WindowStart);
        }

        var shards = Enumerable.Range(0, Shards.Count).ToArray();
        SeededShuffle.Shuffle<int>(shards, SeededShuffle.Random(Seed, SeededShuffle.Stream.ShardOrder, epoch, 0));
        var windows = (shards.Length + ShardWindow - 1) / ShardWindow;
        var windowStart = new long[windows + 1];
        for (var w = 0; w < windows; w++)
        {
            long rows = 0;
            for (var k = w * ShardWindow; k < Math.Min(shards.Length, (w + 1) * ShardWindow); k++)
            {
                rows += Shards[shards[k]].Rows;
            }

            windowStart[w + 1] = windowStart[w] + rows;
        }

        _epochCache = (epoch, shards, windowStart);
        return (shards, windowStart);
    }

    private int[] Window(long epoch, int window, int[] shards, long[] windowStart)
    {
        if (_windowCache is { } cached && cached.Epoch == epoch && cached.Window == window)
        {
            return cached.Permutation;
        }

        var rows = windowStart[window + 1] - windowStart[window];
        if (rows > Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"window {window} of epoch {epoch} holds {rows} samples, more than one permutation can index; use a smaller data.shard_window (now {ShardWindow})");
        }

        var permutation = new int[rows];
        for (var i = 0; i < permutation.Length; i++)
        {
            permutation[i] = i;
        }

        SeededShuffle.Shuffle<int>(permutation, SeededShuffle.Random(Seed, SeededShuffle.Stream.WindowSamples, epoch, window));
        _windowCache = (epoch, window, permutation);
        return permutation;
    }

    // The first index whose value is greater than value (values sorted ascending).
    private static int UpperBound(long[] values, long value)
    {
        int low = 0, high = values.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (values[mid] <= value)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
