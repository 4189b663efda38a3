using System.Threading.Channels;

namespace Sora.Cluster.Agent;

/// <summary>
/// A worker's log file, written off the actor: <see cref="Write"/> queues a line and returns; a background task appends
/// the lines in order and closes the file after <see cref="Complete"/>. When the file cannot be written (a full disk),
/// <see cref="Written"/> fails with the error; the actor goes on (the worker's last lines still reach the coordinator in
/// its exit report).
/// </summary>
public sealed class WorkerLog
{
    // (Not SingleReader: only the general unbounded channel counts what it holds.)
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private WorkerLog(string path)
    {
        Path = path;
        Written = Task.Run(WriteAsync);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Completes when every line is written and the file is closed (or failed to open: its exception).</summary>
    public Task Written { get; }

    /// <summary>Opens <paramref name="path"/> for appending (creating its directory) before the worker starts, so a path that cannot be written fails the start.</summary>
    public static WorkerLog Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.AppendAllText(path, "");
        return new WorkerLog(path);
    }

    /// <summary>Queues <paramref name="line"/>.</summary>
    public void Write(string line) => _lines.Writer.TryWrite(line);

    /// <summary>No more lines: the file closes once the queued ones are written.</summary>
    public void Complete() => _lines.Writer.TryComplete();

    private async Task WriteAsync()
    {
        var writer = new StreamWriter(Path, append: true);
        await using (writer.ConfigureAwait(false))
        {
            await foreach (var line in _lines.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await writer.WriteLineAsync(line).ConfigureAwait(false);
                if (_lines.Reader.Count == 0)
                {
                    await writer.FlushAsync().ConfigureAwait(false);
                }
            }
        }
    }
}
