namespace Sora.Data.Loading;

/// <summary>How samples of different shapes are batched.</summary>
public enum BatchingMode
{
    /// <summary>Each batch holds samples of one shape (resolution × frames), stacked; see <see cref="BucketBatchSampler{TKey}"/>.</summary>
    Bucket,

    /// <summary>Samples of any shapes are packed into sequences of a token budget (Patch n' Pack); see <c>Sora.Data.Packing.SequencePacker</c>.</summary>
    Pack,
}

/// <summary>The batching choice of a job (config section <c>data.batching</c>); bucketing is the default.</summary>
public sealed record BatchingOptions
{
    public BatchingMode Mode { get; init; } = BatchingMode.Bucket;

    /// <summary>Tokens per packed sequence (pack mode).</summary>
    public int TokenBudget { get; init; } = 1024;

    /// <summary>Batch sizes per shape (bucket mode); null gives every shape the job's batch size.</summary>
    public BucketTable? Buckets { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad key.</summary>
    public BatchingOptions Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"data.batching.mode: {(int)Mode} is not one of bucket, pack");
        }

        if (Mode == BatchingMode.Pack && TokenBudget < 1)
        {
            throw new ArgumentException($"data.batching.token_budget: must be >= 1 (got {TokenBudget})");
        }

        return this;
    }
}
