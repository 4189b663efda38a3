using System.Runtime.InteropServices;

namespace Sora.Cli.Launch;

/// <summary>
/// Ends the process now, from any thread, while another thread may be inside libtorch or Gloo. Environment.Exit runs
/// the native libraries' exit handlers (libtorch's static destructors) under that thread's feet and crashed with
/// SIGSEGV; POSIX <c>_exit</c> skips them. Managed output is flushed first.
/// </summary>
internal static partial class ImmediateExit
{
    public static void Exit(int code)
    {
        System.Console.Out.Flush();
        System.Console.Error.Flush();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            PosixExit(code);
        }

        Environment.Exit(code);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void PosixExit(int status);
}
