using System.Diagnostics;

namespace Sora.Tools;

/// <summary>What a finished program printed and how it exited.</summary>
internal sealed record ToolResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The command and everything it printed, for assertion messages.</summary>
    public string Output => $"$ {Command}\n(exit {ExitCode})\n{StandardOutput}\n{StandardError}";

    public override string ToString() => Output;
}

/// <summary>Runs a command-line program to its end (helm, ip, netns.sh, promtool, the cluster scripts) and captures its output.</summary>
internal static class ToolProcess
{
    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="input"/> (if any) on its stdin. Past <paramref name="timeout"/>
    /// (none: no limit) its whole process tree is killed and a TimeoutException names the command.
    /// </summary>
    public static ToolResult Run(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null, string? input = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var command = $"{fileName} {string.Join(' ', start.ArgumentList)}";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout!.Value.TotalSeconds:0} s");
        }

        process.WaitForExit();
        return new ToolResult(command, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
