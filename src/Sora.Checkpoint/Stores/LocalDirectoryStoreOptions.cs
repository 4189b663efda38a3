namespace Sora.Checkpoint.Stores;

/// <summary>Settings of a <see cref="LocalDirectoryStore"/>.</summary>
public sealed record LocalDirectoryStoreOptions
{
    /// <summary>The buffer used when copying content into and out of files.</summary>
    public int BufferSize { get; init; } = 1 << 20;

    /// <summary>How long a conditional put waits for another writer's lock on the same name before failing.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether files and directories are fsynced (turn off only for throwaway test data).</summary>
    public bool Durable { get; init; } = true;
}
