using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Cli.Launch;
using Sora.Torch.Distributed;
using static Sora.Tests.Common.SoraProcess;
using Sora.Cluster.Workers;
using Sora.Data.Storage;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// The worker mode an agent of <c>sora launch</c> starts (<c>sora train --rank R --agent --round N</c>): a real worker
/// process rendezvousing at a TCPStore this test hosts, controlled through its stdin. Multi-process tests.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class TrainCommandWorkerTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"sora-worker-{Guid.NewGuid():N}");

    public TrainCommandWorkerTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_stop_on_stdin_checkpoints_the_step_it_stops_at_under_the_fenced_round_and_exits_zero()
    {
        var output = Path.Combine(_directory, "run");
        var store = new LocalDirectoryStore(Path.Combine(output, "checkpoints"));
        var layout = new CheckpointLayout("dit/checkpoints");
        // As the coordinator does before it starts round 2: every stage's pointer.
        await new CheckpointFence(store, new CheckpointLayout("vae/checkpoints")).AdvanceAsync(2);
        await new CheckpointFence(store, layout).AdvanceAsync(2);
        using var rendezvous = TcpStore.CreateServer("127.0.0.1", 0, Limit);
        var text = new StringBuilder();
        using var worker = StartWorker(text, output, rendezvous.Port, round: 2, new WorkerCheckpoints(4, Path.Combine(output, "checkpoints"), AzureCredentialKind.Auto, KeepLast: 0, KeepEvery: 0));
        try
        {
            WaitFor(() => Messages(text).Any(m => m.Progress is { Name: "dit" }), Limit, () => Snapshot(text));
            worker.StandardInput.WriteLine(WorkerMessages.Format(new WorkerControl { Stop = "the agent was told to stop" }));
            worker.StandardInput.Flush();

            worker.WaitForExit(Limit).Should().BeTrue("the worker stops after its checkpoint");
            worker.WaitForExit();
            worker.ExitCode.Should().Be(0, Snapshot(text));
        }
        finally
        {
            Kill(worker);
        }

        var messages = Messages(text);
        var firstReported = messages.First(m => m.Progress is { Name: "dit" }).Progress!.Step;
        var stopped = messages.Select(m => m.Stopped).Single(s => s is not null)!;
        stopped.Stage.Should().Be("dit");
        stopped.Step.Should().BeGreaterThanOrEqualTo(firstReported);
        stopped.Committed.Should().BeTrue();
        stopped.Reason.Should().Be("the agent was told to stop");
        messages.Should().Contain(m => m.Status == $"rank 0 stopped (the agent was told to stop) after dit step {stopped.Step}; final checkpoint: committed");
        var latest = await new ShardedCheckpointReader(store, layout).ReadLatestAsync();
        latest!.Step.Should().Be(stopped.Step, "latest names the step the worker reported stopping at");
        latest.Round.Should().Be(2, "the commit carries the worker's round");
        File.Exists(Path.Combine(output, "dit.safetensors")).Should().BeFalse("a stopped job writes no final weights");
        File.Exists(Path.Combine(output, "summary.json")).Should().BeFalse();
    }

    [Fact]
    public void Closing_stdin_means_the_agent_is_gone_and_the_worker_exits_non_zero_at_once()
    {
        using var rendezvous = TcpStore.CreateServer("127.0.0.1", 0, Limit);
        var text = new StringBuilder();
        using var worker = StartWorker(text, Path.Combine(_directory, "orphan"), rendezvous.Port, round: 0, checkpoints: null);
        try
        {
            WaitFor(() => Messages(text).Any(m => m.Progress is not null), Limit, () => Snapshot(text));
            worker.StandardInput.Close();

            // A hang guard, not a speed check: without the channel it would train 100000 steps.
            worker.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue("a worker without its agent must not train on:\n" + Snapshot(text));
            worker.WaitForExit();
            worker.ExitCode.Should().Be(AgentControlChannel.AgentGoneExitCode);
            Snapshot(text).Should().Contain("rank 0: stdin closed, so the agent that started this worker is gone");
        }
        finally
        {
            Kill(worker);
        }
    }

    [Fact]
    public void A_worker_whose_dataset_is_missing_exits_78_naming_it_so_the_job_is_not_retried()
    {
        using var rendezvous = TcpStore.CreateServer("127.0.0.1", 0, Limit);
        var missing = Path.Combine(_directory, "no-such-dataset");
        var job = WriteTinyJob(_directory, ditSteps: 4);
        File.WriteAllText(job, File.ReadAllText(job).Replace("  source: synthetic\n", $"  source: parquet\n  path: {missing}\n", StringComparison.Ordinal)
            .Replace("  sizes: [[32, 32]]\n  lengths: [8]\n", "", StringComparison.Ordinal));
        var text = new StringBuilder();

        // As an agent starts it (this process is its parent).
        var underAgent = new Dictionary<string, string> { [WorkerLifetime.ParentPidVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) };
        using var worker = Start(text, redirectInput: true, underAgent, WorkerArguments(job, Path.Combine(_directory, "run"), rendezvous.Port));
        try
        {
            worker.WaitForExit(Limit).Should().BeTrue(Snapshot(text));
            worker.WaitForExit();
            worker.ExitCode.Should().Be(WorkerLifetime.ConfigurationErrorExitCode, "a configuration or data error fails the same way on every restart:\n" + Snapshot(text));
            Messages(text).Should().Contain(m => m.Error != null && m.Error.Contains(missing), "the agent passes the worker's error on to the coordinator");
        }
        finally
        {
            Kill(worker);
        }
    }

    [Fact]
    public void A_stopped_worker_dies_with_the_process_that_started_it()
    {
        using var rendezvous = TcpStore.CreateServer("127.0.0.1", 0, Limit);
        var (program, arguments) = Command(WorkerArguments(WriteTinyJob(_directory, ditSteps: 100000), Path.Combine(_directory, "run"), rendezvous.Port));

        // A launcher that keeps its own stdin as the worker's (so the worker never sees end of input) and prints the worker's pid.
        var launcher = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-c", $"exec 3<&0; {WorkerLifetime.ParentPidVariable}=$$ \"$@\" <&3 3<&- & echo \"worker $!\"; wait", "sh", program, .. arguments])
        {
            launcher.ArgumentList.Add(argument);
        }

        var text = new StringBuilder();
        using var parent = Process.Start(launcher)!;
        parent.OutputDataReceived += (_, e) => { lock (text) { text.AppendLine(e.Data); } };
        parent.ErrorDataReceived += (_, e) => { lock (text) { text.AppendLine(e.Data); } };
        parent.BeginOutputReadLine();
        parent.BeginErrorReadLine();
        var pid = 0;
        try
        {
            WaitFor(() => Snapshot(text).Split('\n').Any(l => l.StartsWith("worker ", StringComparison.Ordinal)), Limit, () => Snapshot(text));
            pid = int.Parse(Snapshot(text).Split('\n').First(l => l.StartsWith("worker ", StringComparison.Ordinal))["worker ".Length..].Trim(), CultureInfo.InvariantCulture);
            WaitFor(() => Messages(text).Any(m => m.Progress is not null), Limit, () => Snapshot(text));

            Signal(pid, "STOP");
            parent.Kill();

            // (With a timeout: without one it would also wait for the end of the output, which a surviving worker holds open.)
            parent.WaitForExit(Limit).Should().BeTrue();

            // A hang guard, not a speed check: without the fix the stopped worker stays forever.
            WaitFor(() => !Alive(pid), TimeSpan.FromSeconds(30), () => $"worker {pid} outlived its launcher:\n{Snapshot(text)}");
        }
        finally
        {
            if (pid > 0 && Alive(pid))
            {
                Signal(pid, "KILL");
            }
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            // A zombie (state Z) is dead: only its parent's wait is missing.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Starts rank 0 of 1 with the command line an agent gives its workers (<see cref="WorkerCommandLine"/>).</summary>
    private Process StartWorker(StringBuilder text, string output, int port, long round, WorkerCheckpoints? checkpoints) =>
        Start(text, redirectInput: true, WorkerArguments(WriteTinyJob(_directory, ditSteps: 100000), output, port, round, checkpoints));

    /// <summary>Rank 0 of 1's arguments as an agent gives them (<see cref="WorkerCommandLine"/>).</summary>
    private static string[] WorkerArguments(string jobFile, string output, int port, long round = 0, WorkerCheckpoints? checkpoints = null)
    {
        var placement = new WorkerPlacement(jobFile, 0, 0, 1, "127.0.0.1", port, round, "127.0.0.1", 2);
        var job = WorkerCommandLine.JobArguments(new WorkerJobOptions("ddp", TimeSpan.FromSeconds(120), checkpoints));
        return [.. WorkerCommandLine.Arguments(placement, ["--output", output, .. job])];
    }

    private static List<WorkerMessage> Messages(StringBuilder text) =>
        [.. Snapshot(text).Split('\n').Select(line => WorkerMessages.Parse(line.TrimEnd('\r'))).OfType<WorkerMessage>()];

    private static void Kill(Process worker)
    {
        if (!worker.HasExited)
        {
            worker.Kill(entireProcessTree: true);
        }
    }
}
