using System.Globalization;
using System.Runtime.CompilerServices;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// A checkpoint store in a local (or mounted) directory; object "a/b/c" is the file root/a/b/c.
/// <para>
/// Atomicity: a put writes a temporary file (".sora-tmp-…") in the target's directory, fsyncs it, renames it
/// over the target and fsyncs the directory, so a reader or a crash sees the old file or the new one, never a
/// mix; temporary and lock files are never listed or opened as objects. While a large file is written, each
/// <see cref="LocalDirectoryStoreOptions.WritebackBytes"/> already written are sent to disk (Linux sync_file_range),
/// so the fsync waits only for the tail.
/// </para>
/// <para>
/// ETag: "&lt;length&gt;-&lt;mtime ticks&gt;" in hex. Each put sets the new file's modification time to
/// max(now, previous file's mtime + 100 ns) explicitly, so the ETag changes on every write through this store
/// even for same-length writes within the file system's coarse clock tick; hashing the content instead would
/// cost a full read of multi-GB shards on every properties call.
/// </para>
/// <para>
/// Conditional puts hold an exclusive advisory lock (flock, via FileShare.None) on ".sora-lock-&lt;file&gt;"
/// from the condition check to the rename, so concurrent conditional writers of one name, in any process on the
/// machine, are serialized; create-only puts publish with link(2), which fails if the name exists even against
/// unconditional puts, which take no lock (the last writer wins). Lock files stay in place (deleting them would race).
/// </para>
/// </summary>
public sealed class LocalDirectoryStore : ICheckpointStore
{
    private const string TemporaryPrefix = ObjectName.ReservedPrefix + "tmp-";
    private const string LockPrefix = ObjectName.ReservedPrefix + "lock-";
    private readonly LocalDirectoryStoreOptions _options;

    /// <summary>Uses (and creates when missing) the directory <paramref name="root"/>.</summary>
    public LocalDirectoryStore(string root, LocalDirectoryStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _options = options ?? new LocalDirectoryStoreOptions();
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    /// <summary>The absolute root directory.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public string Location => Root;

    /// <summary>The file that holds object <paramref name="name"/>.</summary>
    public string PathOf(string name)
    {
        ObjectName.Validate(name);
        return Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <inheritdoc/>
    public async Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = PathOf(name);
        var directory = Path.GetDirectoryName(path)!;
        CreateDirectoryDurably(directory);
        var fileLock = condition.IsNone ? null : await AcquireLockAsync(name, path, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!condition.IsNone)
            {
                CheckCondition(name, path, condition);
            }

            return await WriteAndRenameAsync(name, path, content, overwrite: !condition.MustNotExist, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            fileLock?.Dispose();
        }
    }

    /// <inheritdoc/>
    public Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // FileShare.Delete: a put may rename a new version over this name while we read the old one.
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, _options.BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
            try
            {
                // Length and mtime of the opened file itself, not of whatever has the name a moment later.
                var modified = File.GetLastWriteTimeUtc(file.SafeFileHandle);
                var properties = new StoredObject(name, file.Length, ETagOf(file.Length, modified), new DateTimeOffset(modified, TimeSpan.Zero));
                return Task.FromResult(new StoredObjectStream(file, properties));
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoredObjectNotFoundException($"object '{name}' does not exist in {Root} (no file {path})", name, innerException: e);
        }
    }

    /// <inheritdoc/>
    public Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        var info = new FileInfo(path);
        return Task.FromResult(info.Exists ? Describe(name, info) : null);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? Root : Path.Combine(Root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var enumeration = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        var found = new List<StoredObject>();
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", enumeration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal) && ObjectName.IsValid(name))
            {
                found.Add(Describe(name, file));
            }
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var item in found)
        {
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        var directory = Path.GetDirectoryName(path)!;
        if (_options.Durable)
        {
            PosixFileCalls.FsyncDirectory(directory);
        }

        RemoveEmptyDirectories(directory);
        return Task.FromResult(true);
    }

    // A blob store has no folders: once an object's folder (a pruned step) holds nothing, it goes too, up to the
    // root, so a long run does not leave thousands of empty step folders. A folder that is not empty stays.
    // Prune only deletes steps nobody writes to any more, so no put races this.
    private void RemoveEmptyDirectories(string directory)
    {
        var root = Root.TrimEnd(Path.DirectorySeparatorChar);
        while (directory.Length > root.Length && directory.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(directory).Any())
                {
                    return;
                }

                Directory.Delete(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }

            directory = Path.GetDirectoryName(directory)!;
            if (_options.Durable)
            {
                PosixFileCalls.FsyncDirectory(directory);
            }
        }
    }

    /// <summary>The ETag of a file of <paramref name="length"/> bytes last written at <paramref name="lastWriteUtc"/>.</summary>
    internal static string ETagOf(long length, DateTime lastWriteUtc) =>
        "\"" + length.ToString("x", CultureInfo.InvariantCulture) + "-" + lastWriteUtc.Ticks.ToString("x", CultureInfo.InvariantCulture) + "\"";

    private static StoredObject Describe(string name, FileInfo info)
    {
        var mtime = info.LastWriteTimeUtc;
        return new StoredObject(name, info.Length, ETagOf(info.Length, mtime), new DateTimeOffset(mtime, TimeSpan.Zero));
    }

    private void CheckCondition(string name, string path, PutCondition condition)
    {
        var current = new FileInfo(path);
        if (condition.MustNotExist && current.Exists)
        {
            throw new PreconditionFailedException($"object '{name}' already exists in {Root} (put was create-only, If-None-Match: *)", name);
        }

        if (condition.ExpectedETag is { } expected)
        {
            if (!current.Exists)
            {
                throw new PreconditionFailedException($"object '{name}' does not exist in {Root}, so it cannot match If-Match ETag {expected}", name);
            }

            var actual = ETagOf(current.Length, current.LastWriteTimeUtc);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new PreconditionFailedException($"object '{name}' in {Root} has ETag {actual}, not the expected {expected} (another writer replaced it)", name);
            }
        }
    }

    private async Task<StoredObject> WriteAndRenameAsync(string name, string path, Stream content, bool overwrite, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, TemporaryPrefix + Path.GetFileName(path) + "-" + Guid.NewGuid().ToString("N"));
        long length;
        DateTime modified;
        try
        {
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, _options.BufferSize, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                if (_options.Durable && _options.WritebackBytes > 0)
                {
                    await using var writeback = new WritebackStream(file, _options.WritebackBytes);
                    await content.CopyToAsync(writeback, _options.BufferSize, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await content.CopyToAsync(file, _options.BufferSize, cancellationToken).ConfigureAwait(false);
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                length = file.Length;
                modified = NextModificationTime(path);
                File.SetLastWriteTimeUtc(file.SafeFileHandle, modified);
                if (_options.Durable)
                {
                    file.Flush(flushToDisk: true);
                }
            }

            if (overwrite)
            {
                File.Move(temporary, path, overwrite: true);
            }
            else
            {
                MoveToFreeName(name, temporary, path);
            }

            temporary = null;
            if (_options.Durable)
            {
                PosixFileCalls.FsyncDirectory(directory);
            }
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }
        }

        return new StoredObject(name, length, ETagOf(length, modified), new DateTimeOffset(modified, TimeSpan.Zero));
    }

    /// <summary>Renames <paramref name="temporary"/> to <paramref name="path"/> only if no file has that name, even against writers that take no lock.</summary>
    private void MoveToFreeName(string name, string temporary, string path)
    {
        switch (PosixFileCalls.TryLinkNew(temporary, path))
        {
            case true:
                File.Delete(temporary);
                return;
            case false:
                throw new PreconditionFailedException($"object '{name}' already exists in {Root} (put was create-only, If-None-Match: *)", name);
            default:
                // No hard links on this file system: .NET's check-then-rename, safe among lock holders.
                try
                {
                    File.Move(temporary, path, overwrite: false);
                }
                catch (IOException e) when (File.Exists(path))
                {
                    throw new PreconditionFailedException($"object '{name}' already exists in {Root} (put was create-only, If-None-Match: *)", name, innerException: e);
                }

                return;
        }
    }

    private static DateTime NextModificationTime(string path)
    {
        var now = DateTime.UtcNow;
        var previous = new FileInfo(path);
        return previous.Exists && previous.LastWriteTimeUtc >= now ? previous.LastWriteTimeUtc.AddTicks(1) : now;
    }

    private void CreateDirectoryDurably(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        // Remember which ancestors are new, so each new entry's parent can be fsynced after creation.
        var created = new Stack<string>();
        for (var d = directory; !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            created.Push(d);
        }

        Directory.CreateDirectory(directory);
        if (_options.Durable)
        {
            foreach (var d in created)
            {
                PosixFileCalls.FsyncDirectory(Path.GetDirectoryName(d)!);
            }
        }
    }

    private async Task<FileStream> AcquireLockAsync(string name, string path, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(Path.GetDirectoryName(path)!, LockPrefix + Path.GetFileName(path));
        var deadline = DateTime.UtcNow + _options.LockTimeout;
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix (a share-mode lock on Windows); the OS drops it if we die.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new CheckpointStoreException($"timed out after {_options.LockTimeout} waiting for the lock {lockPath} of object '{name}' held by another writer", name, innerException: e);
                }
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 50));
        }
    }
}
