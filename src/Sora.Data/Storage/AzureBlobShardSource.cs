using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Sora.Data.Storage;

/// <summary>
/// Shards in an Azure Blob container under a prefix (<c>az://container/prefix</c> or the container's URL): the
/// <c>*.parquet</c> blobs directly under the prefix. Without a cache, a shard is read through ranged Gets (the
/// footer, then each column chunk decoded, each in one Get), with a read-ahead buffer per open stream. With a cache directory,
/// a shard is downloaded whole the first time it is opened (pinned to its listed ETag) and read from disk after
/// that, also by later runs, so no shard crosses the network twice.
/// </summary>
public sealed class AzureBlobShardSource : IShardSource
{
    /// <summary>The least one ranged Get fetches where the reader announced no range (column chunks and footers are announced and fetched whole).</summary>
    public const int DefaultReadAhead = 256 << 10;

    private readonly AzureBlobLocation _location;
    private readonly BlobContainerClient _container;
    private readonly string? _cache;
    private readonly int _readAhead;
    private readonly ConcurrentDictionary<string, object> _downloads = new(StringComparer.Ordinal);
    private long _bytesFetched;

    /// <param name="location">The container and prefix.</param>
    /// <param name="cacheDirectory">Where whole shards are kept once read; null reads by ranges every time.</param>
    /// <param name="environment">Reads the variables that hold secrets (the process environment by default).</param>
    /// <param name="readAhead">The least one ranged Get fetches.</param>
    public AzureBlobShardSource(AzureBlobLocation location, string? cacheDirectory = null, Func<string, string?>? environment = null, int readAhead = DefaultReadAhead)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentOutOfRangeException.ThrowIfLessThan(readAhead, 1);
        _location = location;
        (_container, Authentication) = location.OpenContainer(null, environment);
        _cache = cacheDirectory is null ? null : Path.GetFullPath(cacheDirectory);
        _readAhead = readAhead;
    }

    /// <inheritdoc/>
    public string Location => _location.Text;

    /// <summary>How requests are authorized, in words (never the secret).</summary>
    public string Authentication { get; }

    /// <summary>Bytes fetched from the service so far (ranged reads and cache downloads).</summary>
    public long BytesFetched => Interlocked.Read(ref _bytesFetched);

    /// <inheritdoc/>
    public IReadOnlyList<ShardObject> List()
    {
        List<ShardObject> shards = [];
        try
        {
            foreach (var blob in _container.GetBlobs(BlobTraits.None, BlobStates.None, _location.Prefix, CancellationToken.None))
            {
                var name = blob.Name[_location.Prefix.Length..];
                if (!name.Contains('/', StringComparison.Ordinal) && name.EndsWith(".parquet", StringComparison.Ordinal))
                {
                    shards.Add(new ShardObject(name, blob.Properties.ContentLength ?? 0, blob.Properties.ETag?.ToString() ?? string.Empty));
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FileNotFoundException($"'{Location}': the container '{_location.Container}' does not exist", Location, e);
        }
        catch (RequestFailedException e)
        {
            throw new IOException($"'{Location}': listing the shards failed ({Authentication}): {e.Status} {e.ErrorCode}", e);
        }

        return shards.Count > 0
            ? [.. shards.OrderBy(s => s.Name, StringComparer.Ordinal)]
            : throw new FileNotFoundException($"'{Location}' holds no *.parquet shards", Location);
    }

    /// <inheritdoc/>
    public string Describe(ShardObject shard) => $"{Location.TrimEnd('/')}/{(shard ?? throw new ArgumentNullException(nameof(shard))).Name}";

    /// <inheritdoc/>
    public Stream OpenRead(ShardObject shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var blob = _container.GetBlobClient(_location.Prefix + shard.Name);
        var etag = new ETag(shard.Version);
        return _cache is null
            ? new BlobRangeStream(blob, etag, shard.Length, _readAhead, Fetched)
            : File.OpenRead(Cached(blob, shard, etag));
    }

    private void Fetched(long bytes) => Interlocked.Add(ref _bytesFetched, bytes);

    // The shard's file in the cache, downloaded first if it is not there (one download per shard and process).
    private string Cached(BlobClient blob, ShardObject shard, ETag etag)
    {
        var file = Path.Combine(_cache!, CacheName(_location.Container), CacheName(_location.Prefix), $"{CacheName(shard.Version)}-{shard.Name}");
        lock (_downloads.GetOrAdd(file, _ => new object()))
        {
            if (new FileInfo(file) is { Exists: true } info && info.Length == shard.Length)
            {
                return file;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var partial = $"{file}.partial-{Environment.ProcessId}";
            using (var target = new BlobRangeStream(blob, etag, shard.Length, _readAhead, Fetched))
            using (var output = File.Create(partial))
            {
                target.CopyTo(output, _readAhead);
            }

            File.Move(partial, file, overwrite: true);
            return file;
        }
    }

    // A path segment from a name, an ETag or a prefix: letters, digits, '-', '_' and '.' kept, anything else '_'.
    private static string CacheName(string text) =>
        text.Length == 0 ? "_" : string.Concat(text.Trim('"', '/').Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
