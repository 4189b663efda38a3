namespace Sora.Data.Dataset;

/// <summary>Where a <see cref="VideoShardWriter"/> puts its shards: a local directory, or a blob container and prefix.</summary>
public interface IShardSink
{
    /// <summary>Starts the shard <paramref name="fileName"/>; it becomes visible only when <see cref="IShardSinkFile.Publish"/> is called.</summary>
    IShardSinkFile Create(string fileName);
}

/// <summary>One shard being written: a seekable stream, then one publication that makes it visible whole.</summary>
public interface IShardSinkFile
{
    /// <summary>The stream Parquet.Net writes to.</summary>
    Stream Stream { get; }

    /// <summary>Closes the stream and makes the shard visible; returns where it now lives (a path or a blob name).</summary>
    string Publish();
}
