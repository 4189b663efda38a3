using System.Diagnostics;
using System.Text;

namespace Sora.Tests.Common;

/// <summary>The built <c>sora</c> as a child process, for the multi-process tests: start it, collect its output, wait for it, and a tiny job for it to train.</summary>
internal static class SoraProcess
{
    /// <summary>
    /// Writes a tiny CPU job (<paramref name="vaeSteps"/> VAE steps, <paramref name="ditSteps"/> DiT steps, no sampling prompts) into
    /// <paramref name="directory"/>/job.yaml, with <paramref name="extraYaml"/> (further top-level sections) appended.
    /// </summary>
    public static string WriteTinyJob(string directory, int ditSteps, int vaeBatchSize = 4, int ditBatchSize = 8, string? dataset = null, int vaeSteps = 10, string? extraYaml = null)
    {
        var path = Path.Combine(directory, "job.yaml");
        File.WriteAllText(path, Sora.Tools.TinyJob.Yaml(ditSteps, vaeSteps, vaeBatchSize, ditBatchSize, dataset, extraYaml: extraYaml));
        return path;
    }

    /// <summary>Starts the built sora next to this test assembly, collecting stdout and stderr.</summary>
    public static Process Start(StringBuilder output, params string[] args) => Start(output, redirectInput: false, args);

    /// <summary>The program and arguments that run the built sora (next to the test assembly) with <paramref name="args"/>.</summary>
    public static (string FileName, string[] Arguments) Command(params string[] args) =>
        (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "sora.dll"), .. args]);

    /// <summary>Starts the built sora, collecting stdout and stderr; with <paramref name="redirectInput"/> the caller writes its stdin.</summary>
    public static Process Start(StringBuilder output, bool redirectInput, params string[] args) => Start(output, redirectInput, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Start(StringBuilder, bool, string[])"/>, with <paramref name="environment"/> added to the child's.</summary>
    public static Process Start(StringBuilder output, bool redirectInput, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (fileName, arguments) = Command(args);
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        void Append(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; past <paramref name="limit"/> (a hang guard, not a speed check) fails with <paramref name="describe"/>.</summary>
    public static void WaitFor(Func<bool> condition, TimeSpan limit, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"condition not met within {limit}:\n{describe()}");
            }

            Thread.Sleep(100);
        }
    }
}
