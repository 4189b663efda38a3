using System.Runtime.InteropServices;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// fsync of a directory, which makes a rename or a new entry in it durable. .NET cannot open a directory as a
/// FileStream, so on Linux and macOS this calls libc's open/fsync/close; elsewhere it does nothing.
/// </summary>
internal static partial class DirectorySync
{
    private static readonly bool Supported = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Flushes the directory's entries to disk; an error names the directory.</summary>
    public static void Flush(string directory)
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
                if (errno != 22)
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

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
