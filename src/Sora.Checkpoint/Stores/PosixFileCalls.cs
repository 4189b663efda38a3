using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// The POSIX calls the local store needs and .NET does not offer: fsync of a directory (which makes a
/// rename or a new entry durable; .NET cannot open a directory as a FileStream), link(2), which creates a
/// name only if it is free (.NET's File.Move without overwrite checks and then renames, which races), and
/// Linux's sync_file_range, which starts writeback early.
/// On Linux and macOS these call libc; elsewhere they report "not supported" and the caller falls back.
/// </summary>
internal static partial class PosixFileCalls
{
    private const int EEXIST = 17;
    private const int EINVAL = 22;
    private const uint SyncFileRangeWrite = 2;

    private static readonly bool Supported = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Flushes the directory's entries to disk; an error names the directory.</summary>
    public static void FsyncDirectory(string directory)
    {
        if (!Supported)
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL: the file system does not support syncing directories (some network and FUSE mounts).
                if (errno != EINVAL)
                {
                    throw new IOException($"fsync of directory '{directory}' failed (errno {errno})");
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Gives <paramref name="source"/> the additional name <paramref name="target"/> if that name is free:
    /// true when linked, false when <paramref name="target"/> exists, null when this platform or file system
    /// has no hard links (the caller then falls back to a rename).
    /// </summary>
    public static bool? TryLinkNew(string source, string target)
    {
        if (!Supported)
        {
            return null;
        }

        if (Link(source, target) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST)
        {
            return false;
        }

        // EPERM/ENOTSUP/EOPNOTSUPP and friends: no hard links here (FAT, some FUSE and network mounts).
        return null;
    }

    /// <summary>
    /// Starts writing bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) of an
    /// open file back to disk without waiting (Linux sync_file_range, SYNC_FILE_RANGE_WRITE), so that a later fsync
    /// finds less to do. Only a hint: durability still comes from fsync. Returns false where it is not available
    /// (other systems, or a file system that refuses it), so the caller can stop asking.
    /// </summary>
    public static bool StartWriteback(SafeFileHandle file, long offset, long count)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return SyncFileRange((int)file.DangerousGetHandle(), offset, count, SyncFileRangeWrite) == 0;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);
}
