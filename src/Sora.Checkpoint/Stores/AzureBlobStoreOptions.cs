using Azure.Core;
using Azure.Storage.Blobs;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// Settings of an <see cref="AzureBlobStore"/>: transfer sizes and parallelism (what a benchmark tunes), plus
/// everything the SDK's <see cref="BlobClientOptions"/> carries (service version, retry policy with exponential
/// backoff, transport, logging, extra pipeline policies).
/// </summary>
public sealed class AzureBlobStoreOptions : BlobClientOptions
{
    /// <summary>The service version sent (<see cref="AzureBlobLocation.DefaultServiceVersion"/>).</summary>
    public const ServiceVersion DefaultServiceVersion = AzureBlobLocation.DefaultServiceVersion;

    /// <summary>Applies the defaults: 3 retries, 0.5 s first delay doubling up to 30 s.</summary>
    public AzureBlobStoreOptions(ServiceVersion version = DefaultServiceVersion)
        : base(version)
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
    /// Put Block requests of this size plus a Put Block List (the SDK's initial and maximum transfer size).
    /// </summary>
    public int BlockSize { get; set; } = 8 << 20;

    /// <summary>Range size of downloads: the first ranged Get reads this much; a larger object is read in ranges of this size.</summary>
    public int DownloadRangeSize { get; set; } = 8 << 20;

    /// <summary>How many block uploads or range downloads of one object run at once.</summary>
    public int Parallelism { get; set; } = 8;

    /// <summary>Page size of List Blobs (the service caps it at 5000).</summary>
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Create the container on the first write of a store that finds it missing.</summary>
    public bool CreateContainerIfMissing { get; set; } = true;

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
    }
}
