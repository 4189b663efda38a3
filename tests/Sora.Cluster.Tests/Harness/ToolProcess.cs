using System.Diagnostics;

namespace Sora.Cluster.Tests.Harness;

/// <summary>What a finished tool printed and how it exited.</summary>
internal sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>Stdout and stderr, for a failure message.</summary>
    public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs a command-line tool to its end (ip, netns.sh, promtool, the cluster scripts), with a time limit and optional stdin.</summary>
internal static class ToolProcess
{
    /// <summary>Runs <paramref name="fileName"/>; past <paramref name="timeout"/> its whole tree is killed and a TimeoutException names <paramref name="description"/>.</summary>
    public static ToolResult Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string description, string? input = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{description}: could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{description} did not finish within {timeout.TotalSeconds:0} s");
        }

        process.WaitForExit();
        return new ToolResult(process.ExitCode, output.Result, error.Result);
    }
}
