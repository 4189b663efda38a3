namespace Sora.Data.Storage;

/// <summary>Shards on a local disk: one <c>.parquet</c> file, or every <c>*.parquet</c> of a directory.</summary>
public sealed class DirectoryShardSource : IShardSource
{
    private readonly string _path;

    public DirectoryShardSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
    }

    /// <inheritdoc/>
    public string Location => _path;

    /// <inheritdoc/>
    public IReadOnlyList<ShardObject> List() => Files().Select(file =>
    {
        var info = new FileInfo(file);
        return new ShardObject(Path.GetFileName(file), info.Length, $"{info.Length}-{info.LastWriteTimeUtc.Ticks}");
    }).ToArray();

    /// <summary>The shard files: the path itself, or the directory's <c>*.parquet</c> files sorted by name.</summary>
    public IReadOnlyList<string> Files()
    {
        if (File.Exists(_path))
        {
            return [_path];
        }

        if (!Directory.Exists(_path))
        {
            throw new FileNotFoundException($"no Parquet shard or directory at '{_path}'", _path);
        }

        var files = Directory.EnumerateFiles(_path, "*.parquet").Order(StringComparer.Ordinal).ToArray();
        return files.Length > 0 ? files : throw new FileNotFoundException($"'{_path}' holds no *.parquet shards", _path);
    }

    /// <inheritdoc/>
    public string Describe(ShardObject shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return File.Exists(_path) ? _path : Path.Combine(_path, shard.Name);
    }

    /// <inheritdoc/>
    public Stream OpenRead(ShardObject shard) => File.OpenRead(Describe(shard));
}
