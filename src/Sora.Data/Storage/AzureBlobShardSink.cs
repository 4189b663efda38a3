using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sora.Data.Dataset;

namespace Sora.Data.Storage;

/// <summary>
/// Shards written into an Azure Blob container under a prefix: each is written to a local temporary file and
/// uploaded when complete (If-None-Match: *, so an existing shard is never replaced), so a reader never sees half
/// a shard. The container is created if it is missing (and the credential may).
/// </summary>
public sealed class AzureBlobShardSink : IShardSink
{
    private readonly AzureBlobLocation _location;
    private readonly BlobContainerClient _container;

    /// <summary>Refuses a location that already holds shards starting with <paramref name="prefix"/>.</summary>
    public AzureBlobShardSink(AzureBlobLocation location, string prefix, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        _location = location;
        (_container, var authentication) = location.OpenContainer(null, environment);
        try
        {
            _container.CreateIfNotExists();
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
            // A container-scoped SAS may write blobs but not create containers: the uploads will say whether it exists.
        }
        catch (RequestFailedException e)
        {
            throw new IOException($"'{location.Text}': the container could not be created ({authentication}): {e.Status} {e.ErrorCode}", e);
        }

        var existing = _container.GetBlobs(BlobTraits.None, BlobStates.None, location.Prefix + prefix, CancellationToken.None)
            .FirstOrDefault(b => b.Name.EndsWith(".parquet", StringComparison.Ordinal) && !b.Name[location.Prefix.Length..].Contains('/', StringComparison.Ordinal));
        if (existing is not null)
        {
            throw new IOException($"'{location.Text}' already holds shards ({existing.Name[location.Prefix.Length..]}); write a dataset under an empty prefix");
        }
    }

    /// <inheritdoc/>
    public IShardSinkFile Create(string fileName)
    {
        ObjectName.Validate(_location.Prefix + fileName, nameof(fileName));
        return new UploadOnPublish(_container.GetBlobClient(_location.Prefix + fileName), $"{_location.Text.TrimEnd('/')}/{fileName}");
    }

    private sealed class UploadOnPublish(BlobClient blob, string display) : IShardSinkFile
    {
        public Stream Stream { get; } = new FileStream(
            Path.Combine(Path.GetTempPath(), $"sora-shard-{Guid.NewGuid():N}.parquet"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);

        public string Publish()
        {
            using (Stream)
            {
                Stream.Position = 0;
                try
                {
                    blob.Upload(Stream, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } });
                }
                catch (RequestFailedException e)
                {
                    throw new IOException($"uploading {display} failed: {e.Status} {e.ErrorCode}", e);
                }
            }

            return display;
        }
    }
}
