namespace Sora.Data.Dataset;

/// <summary>Shards in a local directory: each is written under a <c>.tmp</c> name and renamed when complete, so a reader never sees half a shard.</summary>
public sealed class DirectoryShardSink : IShardSink
{
    private readonly string _directory;

    /// <summary>Creates <paramref name="directory"/> if needed; refuses one that already holds shards starting with <paramref name="prefix"/>.</summary>
    public DirectoryShardSink(string directory, string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var existing = Directory.EnumerateFiles(directory, $"{prefix}*.parquet").FirstOrDefault();
        if (existing is not null)
        {
            throw new IOException($"'{directory}' already holds shards ({Path.GetFileName(existing)}); write a dataset into an empty directory");
        }

        _directory = directory;
    }

    /// <inheritdoc/>
    public IShardSinkFile Create(string fileName) => new TemporaryFile(Path.Combine(_directory, fileName));

    private sealed class TemporaryFile(string path) : IShardSinkFile
    {
        public Stream Stream { get; } = new FileStream(path + ".tmp", FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);

        public string Publish()
        {
            Stream.Dispose();
            File.Move(path + ".tmp", path, overwrite: false);
            return path;
        }
    }
}
