using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Cli.Launch;
using Sora.Cluster.Agent;

namespace Sora.Cli.Bench;

/// <summary>The faults <c>sora bench recovery</c> injects.</summary>
internal enum RecoveryFault
{
    WorkerKill,
    Hang,
    NodeKill,
    Partition,
}

/// <summary>One fault's recovery: seconds from the fault to its detection and to the first training step of the new round, and the steps trained again.</summary>
internal sealed record RecoveryResult(RecoveryFault Fault, double DetectionSeconds, double BackToTrainingSeconds, long StepsRedone, long ResumedFrom, string Cause);

/// <summary>
/// <c>sora bench recovery</c>: a real 3-host cluster on this machine (network namespaces made by
/// <c>cluster/netns.sh</c>; coordinator on host 0, an agent with one worker on hosts 1 and 2), a tiny job that
/// checkpoints every few steps, and one fault per run after the second checkpoint. The times come from the
/// coordinator's own event lines (millisecond time stamps), measured against the moment the fault was injected.
/// Needs root (network namespaces).
/// </summary>
internal sealed partial class RecoveryBenchmark
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    /// <summary>Checkpoint interval of the bench job (steps redone are at most this).</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>The hang timeout the bench job sets (a hang's detection is this plus up to a tick).</summary>
    public double HangTimeout { get; init; } = 8;

    public RecoveryResult Run(RecoveryFault fault, int index, IProgress<string> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var directory = Directory.CreateTempSubdirectory("sora-bench-recovery-").FullName;
        var name = $"sbr{Environment.ProcessId % 10000}x{index}";
        var script = Sora.Checkout.SourceCheckout.PathOf("cluster", "netns.sh");
        var processes = new List<Process>();
        try
        {
            var job = WriteJob(directory);
            var addresses = Netns(script, "up", name, "3", (2000 + (Environment.ProcessId % 5000) + index).ToString(CultureInfo.InvariantCulture))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("host ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
            var token = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            var lines = new List<(DateTime At, string Text)>();
            var coordinator = Start(name, 0, token, processes, lines, "coordinator", job, "--listen", $"{addresses[0]}:29400", "--api-listen", $"{addresses[0]}:8080",
                "--store-port", "29401", "--nnodes", "1:2", "--parallel", "ddp");
            for (var host = 1; host <= 2; host++)
            {
                Start(name, host, token, processes, null, "agent", "--coordinator", $"{addresses[0]}:29400", "--nproc-per-node", "1", "--node", $"host{host}", "--threads", "1");
            }

            status.Report($"{fault}: waiting for the checkpoint of step {2 * CheckpointEvery}");
            WaitFor(() => LatestStep(directory) >= 2 * CheckpointEvery, coordinator, lines, $"a checkpoint of step {2 * CheckpointEvery}");
            var injected = DateTime.Now;
            Inject(fault, name, script, directory);
            status.Report($"{fault}: injected at {injected:HH:mm:ss.fff}");
            WaitFor(() => Find(lines, "round 2: training:") is not null, coordinator, lines, "the new round's first training step");

            var ending = Find(lines, "round 1 ending (") ?? throw new InvalidOperationException("the coordinator reported no end of round 1");
            var training = Find(lines, "round 2: training:")!.Value;
            var reached = long.Parse(EndingStep().Match(ending.Text).Groups[1].Value, CultureInfo.InvariantCulture);
            var trainingMatch = TrainingLine().Match(training.Text);
            var firstStep = StampOf(trainingMatch.Groups[1].Value);
            var resumedFrom = long.Parse(trainingMatch.Groups[2].Value, CultureInfo.InvariantCulture);
            return new RecoveryResult(fault, (StampOf(ending.Text[1..13]) - injected).TotalSeconds, (firstStep - injected).TotalSeconds, Math.Max(0, reached - resumedFrom), resumedFrom,
                ending.Text.Split('\n')[0].Split(": ", 2)[^1]);
        }
        finally
        {
            foreach (var process in processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                process.Dispose();
            }

            Netns(script, "down", name);
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Inject(RecoveryFault fault, string name, string script, string directory)
    {
        int Worker(int rank) => WorkerProcessTable.Find(directory, rank) ?? throw new InvalidOperationException($"no worker of rank {rank} runs");
        switch (fault)
        {
            case RecoveryFault.WorkerKill:
                Signal(Worker(1), "KILL");
                break;
            case RecoveryFault.Hang:
                Signal(Worker(1), "STOP");
                break;
            case RecoveryFault.NodeKill:
                // Everything on host 2 dies at once: its agent and its worker.
                foreach (var pid in Run("ip", "netns", "pids", $"{name}-2").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Signal(int.Parse(pid, CultureInfo.InvariantCulture), "KILL");
                }

                break;
            case RecoveryFault.Partition:
                Netns(script, "cut", name, "2");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private string WriteJob(string directory)
    {
        var path = Path.Combine(directory, "job.yaml");
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"""
            name: bench-recovery
            seed: 1
            output: {Path.Combine(directory, "run")}
            data:
              source: synthetic
              samples: 48
              held_out: 4
              sizes: [[32, 32]]
              lengths: [8]
            vae:
              preset: patch
              train:
                steps: 6
                batch_size: 4
            model:
              preset: tiny
            train:
              steps: 100000
              batch_size: 8
              warmup_steps: 2
            sampling:
              prompts: []
            checkpoint:
              every: {CheckpointEvery}
              keep_last: 2
            fault:
              max_restarts: 1
              hang_timeout: {HangTimeout}
              coordinator_timeout: 5
              rendezvous_wait: 2
              min_nodes: 1
              max_nodes: 2
            """));
        return path;
    }

    private static Process Start(string name, int host, string token, List<Process> processes, List<(DateTime, string)>? lines, params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", $"{name}-{host}" }.Concat(ClusterJob.Self()).Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment[ClusterJob.TokenVariable] = token;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start sora {arguments[0]} on host {host}");
        processes.Add(process);
        void Collect(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null && lines is not null)
            {
                lock (lines)
                {
                    lines.Add((DateTime.Now, e.Data));
                }
            }
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void WaitFor(Func<bool> condition, Process coordinator, List<(DateTime At, string Text)> lines, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (coordinator.HasExited || clock.Elapsed > Limit)
            {
                string tail;
                lock (lines)
                {
                    tail = string.Join("\n", lines.TakeLast(30).Select(l => l.Text));
                }

                throw new InvalidOperationException($"no {what} within {Limit.TotalMinutes} min (coordinator {(coordinator.HasExited ? $"exited {coordinator.ExitCode}" : "running")}):\n{tail}");
            }

            Thread.Sleep(100);
        }
    }

    private static (DateTime At, string Text)? Find(List<(DateTime At, string Text)> lines, string text)
    {
        lock (lines)
        {
            return lines.Where(l => l.Text.Contains(text, StringComparison.Ordinal)).Select(l => ((DateTime, string)?)l).FirstOrDefault();
        }
    }

    private static long LatestStep(string directory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(directory, "run", "checkpoints", "dit", "checkpoints", "latest"));
            var match = LatestStepField().Match(text);
            return match.Success && text.Contains("\"manifest\":\"", StringComparison.Ordinal) ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Today's local time at an <c>HH:mm:ss.fff</c> stamp of the coordinator's events.</summary>
    private static DateTime StampOf(string text) => DateTime.Today + TimeSpan.ParseExact(text, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);

    private static string Netns(string script, params string[] arguments) => Run("bash", [script, .. arguments]);

    private static void Signal(int pid, string signal) => Run("kill", $"-{signal}", pid.ToString(CultureInfo.InvariantCulture));

    private static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot run {program}");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()}");
    }

    [GeneratedRegex(@"ending \([a-z-]+\) at (?:vae|dit) step (\d+)")]
    private static partial Regex EndingStep();

    [GeneratedRegex(@" at (\d\d:\d\d:\d\d\.\d\d\d), .*\(resumed from step (\d+)\)")]
    private static partial Regex TrainingLine();

    [GeneratedRegex("\"step\":(\\d+)")]
    private static partial Regex LatestStepField();
}
