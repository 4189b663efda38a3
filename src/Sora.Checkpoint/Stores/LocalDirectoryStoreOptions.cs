namespace Sora.Checkpoint.Stores;

/// <summary>Settings of a <see cref="LocalDirectoryStore"/>.</summary>
public sealed record LocalDirectoryStoreOptions
{
    /// <summary>The buffer used when copying content into and out of files.</summary>
    public int BufferSize { get; init; } = 1 << 20;

    /// <summary>How long a conditional put waits for another writer's lock on the same name before failing.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With <see cref="Durable"/>: after every this many bytes of a put, start writing them back to disk (Linux
    /// sync_file_range) while the rest is written, so the closing fsync waits for less. 0 turns it off. Only a hint:
    /// the fsync before the rename is what makes a put durable.
    /// </summary>
    public long WritebackBytes { get; init; } = 8 << 20;

    /// <summary>Whether files and directories are fsynced (turn off only for throwaway test data).</summary>
    public bool Durable { get; init; } = true;
}
