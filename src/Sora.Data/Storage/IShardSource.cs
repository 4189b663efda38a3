namespace Sora.Data.Storage;

/// <summary>
/// Where a dataset's shards are read from: a local directory or a blob container and prefix. The loader needs only
/// the list of shards and a seekable stream over one, from which Parquet.Net reads the footer and the column chunks
/// it is asked for (over blob storage, as ranged reads).
/// </summary>
public interface IShardSource
{
    /// <summary>The location as the user wrote it, without secrets (for messages).</summary>
    string Location { get; }

    /// <summary>The <c>*.parquet</c> shards, sorted by name (ordinal).</summary>
    /// <exception cref="FileNotFoundException">There is no such location, or it holds no shards.</exception>
    IReadOnlyList<ShardObject> List();

    /// <summary>Where <paramref name="shard"/> is, for messages: a file path, or the location and the shard's name.</summary>
    string Describe(ShardObject shard);

    /// <summary>A readable, seekable stream over <paramref name="shard"/> as it was listed.</summary>
    Stream OpenRead(ShardObject shard);
}
