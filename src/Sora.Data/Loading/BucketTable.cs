namespace Sora.Data.Loading;

/// <summary>
/// Open-Sora style bucket configuration: for each resolution (height × width) and clip length (frames), the batch
/// size of a batch of that shape, so that every bucket costs about the same memory. Used with
/// <see cref="BucketBatchSampler{TKey}"/> when <see cref="BatchingOptions.Mode"/> is <see cref="BatchingMode.Bucket"/>.
/// </summary>
public sealed class BucketTable
{
    private readonly Dictionary<(long T, long H, long W), int> _sizes;

    /// <param name="entries">Batch size per (frames, height, width); sizes must be >= 1 and shapes distinct.</param>
    /// <param name="defaultBatchSize">The batch size of shapes not listed, or null to reject them.</param>
    public BucketTable(IEnumerable<((long T, long H, long W) Shape, int BatchSize)> entries, int? defaultBatchSize = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _sizes = [];
        foreach (var (shape, size) in entries)
        {
            if (size < 1)
            {
                throw new ArgumentException($"data.batching.buckets: {Name(shape)} has batch size {size}; it must be >= 1", nameof(entries));
            }

            if (!_sizes.TryAdd(shape, size))
            {
                throw new ArgumentException($"data.batching.buckets: {Name(shape)} is listed twice", nameof(entries));
            }
        }

        if (defaultBatchSize is < 1)
        {
            throw new ArgumentException($"data.batching.default_batch_size must be >= 1 (got {defaultBatchSize})", nameof(defaultBatchSize));
        }

        DefaultBatchSize = defaultBatchSize;
    }

    public int? DefaultBatchSize { get; }

    /// <summary>
    /// Parses the YAML-style form: resolution "HxW" → frames → batch size, e.g. {"32x32": {1: 32, 8: 8}, "64x64": {1: 8}}.
    /// </summary>
    public static BucketTable Parse(IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> resolutions, int? defaultBatchSize = null)
    {
        ArgumentNullException.ThrowIfNull(resolutions);
        var entries = new List<((long, long, long), int)>();
        foreach (var (resolution, frames) in resolutions)
        {
            var parts = resolution.Split('x');
            if (parts.Length != 2 || !long.TryParse(parts[0], out var height) || !long.TryParse(parts[1], out var width) || height < 1 || width < 1)
            {
                throw new FormatException($"data.batching.buckets.{resolution}: a resolution is written HxW with positive integers, e.g. 32x48");
            }

            foreach (var (length, size) in frames)
            {
                if (length < 1)
                {
                    throw new FormatException($"data.batching.buckets.{resolution}.{length}: frame counts must be >= 1");
                }

                entries.Add(((length, height, width), size));
            }
        }

        return new BucketTable(entries, defaultBatchSize);
    }

    /// <summary>The batch size of a batch of shape (frames, height, width); throws naming the shape when it has no bucket.</summary>
    public int BatchSize((long T, long H, long W) shape)
    {
        if (_sizes.TryGetValue(shape, out var size))
        {
            return size;
        }

        return DefaultBatchSize ?? throw new KeyNotFoundException(
            $"no bucket for {Name(shape)} and no default batch size; buckets: {string.Join(", ", _sizes.Keys.Order().Select(Name))}");
    }

    private static string Name((long T, long H, long W) shape) => $"{shape.H}x{shape.W} with {shape.T} frames";
}
