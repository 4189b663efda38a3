using System.ComponentModel;
using System.Diagnostics;

namespace Sora.Data.Video;

/// <summary>
/// Runs one ffmpeg/ffprobe command with stdin, stdout and stderr all piped. stdout and stderr are drained
/// concurrently while stdin is written, so neither side can block the other on a full pipe.
/// </summary>
internal static class FfmpegProcess
{
    /// <summary>How many of the tool's last stderr lines an error quotes.</summary>
    private const int StderrLinesQuoted = 15;

    /// <summary>Runs <paramref name="executable"/> and returns what it wrote to stdout; throws <see cref="FfmpegException"/> naming <paramref name="path"/> on failure.</summary>
    public static byte[] Run(string executable, IEnumerable<string> arguments, ReadOnlySpan<byte> stdin, string path)
    {
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new FfmpegException(
                $"cannot run '{executable}' for '{path}': {e.Message}. ffmpeg is not installed or not on PATH; run ./scripts/bootstrap.sh, which installs it.",
                path,
                innerException: e);
        }

        var stderr = process.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        var stdoutCopy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        IOException? stdinFailure = null;
        try
        {
            try
            {
                process.StandardInput.BaseStream.Write(stdin);
                process.StandardInput.Close();
            }
            catch (IOException e)
            {
                // The tool stopped reading (it failed early): its exit code and stderr say why.
                stdinFailure = e;
            }

            Task.WaitAll(stderr, stdoutCopy);
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        if (process.ExitCode != 0 || stdinFailure is not null)
        {
            var tail = LastLines(stderr.Result, StderrLinesQuoted);
            var name = Path.GetFileName(executable);
            throw new FfmpegException(
                $"{name} failed on '{path}' (exit code {process.ExitCode}){(tail.Length > 0 ? ":" + Environment.NewLine + tail : stdinFailure is not null ? ": it stopped reading its input" : string.Empty)}",
                path,
                process.ExitCode,
                tail,
                stdinFailure);
        }

        return stdout.ToArray();
    }

    internal static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(Environment.NewLine, lines.TakeLast(count));
    }
}
