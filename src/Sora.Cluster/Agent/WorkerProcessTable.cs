using System.Globalization;

namespace Sora.Cluster.Agent;

/// <summary>Finds a running worker of a job on this machine by its command line (for fault injection in tests and <c>sora bench recovery</c>).</summary>
public static class WorkerProcessTable
{
    /// <summary>
    /// The pid of the <c>sora train</c> worker of <paramref name="rank"/> whose command line has an argument starting with
    /// <paramref name="marker"/> (a path only that job uses, such as its checkpoint directory), or null when none runs.
    /// </summary>
    public static int? Find(string marker, int rank)
    {
        ArgumentException.ThrowIfNullOrEmpty(marker);
        var wanted = rank.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue; // gone meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var at = Array.IndexOf(arguments, "--rank");
            if (at > 0 && at + 1 < arguments.Length && arguments[at + 1] == wanted && arguments.Contains("train")
                && arguments.Any(a => a.StartsWith(marker, StringComparison.Ordinal)))
            {
                return pid;
            }
        }

        return null;
    }
}
