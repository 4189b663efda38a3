using Azure.Core;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// Settings of an <see cref="AzureBlobStore"/>: transfer sizes and parallelism (what a benchmark tunes), the
/// service version, and everything Azure.Core's <see cref="ClientOptions"/> carries (retry policy with
/// exponential backoff, transport, logging).
/// </summary>
public sealed class AzureBlobStoreOptions : ClientOptions
{
    /// <summary>The x-ms-version sent (Azurite 3.35 accepts up to this one without --skipApiVersionCheck).</summary>
    public const string DefaultServiceVersion = "2025-11-05";

    /// <summary>Applies the defaults: 3 retries, 0.5 s first delay doubling up to 30 s, 100 s network timeout.</summary>
    public AzureBlobStoreOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(500);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Diagnostics.IsDistributedTracingEnabled = false;
        Diagnostics.ApplicationId = "sora-checkpoint";
    }

    /// <summary>
    /// Block size of uploads: an object that fits in one block goes up as a single Put Blob, a larger one as
    /// Put Block requests of this size plus a Put Block List. At most 2000 MiB (an array limit; the service allows 4000 MiB).
    /// </summary>
    public int BlockSize { get; set; } = 8 << 20;

    /// <summary>Range size of downloads: the first ranged Get reads this much; a larger object is read in ranges of this size.</summary>
    public int DownloadRangeSize { get; set; } = 8 << 20;

    /// <summary>How many block uploads or range downloads of one object run at once.</summary>
    public int Parallelism { get; set; } = 8;

    /// <summary>Page size of List Blobs (maxresults; the service caps it at 5000).</summary>
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Create the container on the first write that finds it missing.</summary>
    public bool CreateContainerIfMissing { get; set; } = true;

    /// <summary>The x-ms-version header of every request.</summary>
    public string ServiceVersion { get; set; } = DefaultServiceVersion;

    internal void Validate()
    {
        if (BlockSize is < 1 or > 2000 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "the block size must be between 1 byte and 2000 MiB");
        }

        if (DownloadRangeSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DownloadRangeSize), DownloadRangeSize, "the download range size must be positive");
        }

        if (Parallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "parallelism must be at least 1");
        }

        if (ListPageSize is < 1 or > 5000)
        {
            throw new ArgumentOutOfRangeException(nameof(ListPageSize), ListPageSize, "the list page size must be between 1 and 5000");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(ServiceVersion, nameof(ServiceVersion));
    }
}
