using System.Runtime.InteropServices;

namespace Sora.Cli.Bench;

/// <summary>
/// Drops files' clean pages from the Linux page cache (posix_fadvise POSIX_FADV_DONTNEED), so that a benchmark's
/// next read comes from the disk as a load after a restart would, without root or dropping every cache on the machine.
/// Dirty pages stay, so evict only files already fsynced.
/// </summary>
internal static partial class PageCache
{
    private const int PosixFadvDontNeed = 4;

    /// <summary>Whether eviction works here (Linux).</summary>
    public static bool CanEvict => OperatingSystem.IsLinux();

    /// <summary>Evicts one file's pages; an error names the file.</summary>
    public static void Evict(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var error = FileAdvise((int)file.DangerousGetHandle(), 0, 0, PosixFadvDontNeed);
        if (error != 0)
        {
            throw new IOException($"posix_fadvise(DONTNEED) of {path} failed (error {error})");
        }
    }

    /// <summary>Evicts the pages of every file below <paramref name="folder"/>.</summary>
    public static void EvictFolder(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            Evict(file);
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int FileAdvise(int fd, long offset, long length, int advice);
}
