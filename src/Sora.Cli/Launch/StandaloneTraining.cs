using System.Net;
using System.Threading.Channels;
using Sora.Checkpoint.Stores;
using Sora.Cli.Console;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Hosting;
using Sora.Cluster.Workers;
using Sora.Distributed.Configuration;
using Sora.Distributed.Store;
using Sora.Distributed.Training;
using Sora.Metrics.Job;
using Spectre.Console;

namespace Sora.Cli.Launch;

/// <summary>
/// <c>sora train JOB --nproc-per-node N</c>: <c>sora launch</c>'s standalone path (the coordinator, this machine's agent and
/// its N workers, one control plane in this process) with fail-fast settings: no restart (the first failure ends the job,
/// naming the rank), checkpoints only when asked (<c>--checkpoint-every</c>, <c>--resume</c>), and the first round resumes
/// only as <c>--resume</c> says. It shows what <c>sora train</c> shows on one process (rank 0's status lines and progress,
/// in the same display) with the job's events among the status lines. Nothing is written outside the run directory.
/// </summary>
internal static class StandaloneTraining
{
    /// <summary>Runs the job on <paramref name="processes"/> workers; returns the exit code.</summary>
    /// <param name="config">The job, with the command line's output directory and threads.</param>
    /// <param name="processes">Workers to start.</param>
    /// <param name="timeout">Rendezvous and collective timeout of the workers.</param>
    /// <param name="parallel">ddp or fsdp.</param>
    /// <param name="checkpoints">The workers' checkpoint settings, or null when none were asked for.</param>
    /// <param name="store">The checkpoint store the settings name (null with them).</param>
    /// <param name="resume">--resume: "latest" or a step; null to start from scratch.</param>
    public static int Run(JobConfig config, int processes, TimeSpan timeout, string parallel, WorkerCheckpoints? checkpoints, ICheckpointStore? store, string? resume)
    {
        BatchSplit.CheckLaunch(ClusterJob.Batches(config), 1, 1, processes);

        // The job the agent is sent names the run directory given on the command line.
        config = config.WithOutput(Path.GetFullPath(config.Output));
        var fault = ClusterJob.Fault(config, "1", maxRestarts: 0, hangTimeout: null);
        var token = ClusterJob.NewToken();
        var endpoints = new CoordinatorEndpoints("127.0.0.1", ClusterJob.FreePort(), "127.0.0.1", "127.0.0.1", 0);
        var threads = config.Threads > 0 ? config.Threads : Environment.ProcessorCount;
        ICheckpointLedger ledger = store is null ? new NoCheckpoints() : new StoreCheckpointLedger(store, JobStore.VaeCheckpoints, JobStore.DiTCheckpoints);
        var workers = new WorkerJobOptions(parallel, timeout, checkpoints);

        // The control plane's actors only queue what is to be shown; this thread draws it.
        var shown = Channel.CreateUnbounded<Action<IProgress<string>, IProgress<TrainingProgress>>>();
        var events = new QueuedEvents(shown.Writer);
        var agent = ClusterJob.Agent(Dns.GetHostName(), "127.0.0.1", processes, threads, token, fault.CoordinatorTimeoutOrDefault, Path.Combine(config.Output, ".sora")) with
        {
            Output = (rank, message) =>
            {
                if (rank == 0 && message.Status is { } s)
                {
                    shown.Writer.TryWrite((status, _) => status.Report(s));
                }

                if (rank == 0 && message.Progress is { } p)
                {
                    shown.Writer.TryWrite((_, progress) => progress.Report(p));
                }
            },
        };

        var (success, message) = new TrainingDisplay().Run((status, progress) =>
        {
            var run = CoordinatorRun.RunAsync(endpoints, 0, port => ClusterJob.Spec(config, fault, token, "127.0.0.1", port, workers) with { Resume = resume ?? JobSpec.StartFresh },
                ledger, token, events, agent, (started, port) => events.Report(
                    $"launching {processes} ranks on this machine ({Math.Max(1, threads / processes)} thread(s) each), rendezvous at 127.0.0.1:{port}; logs in {Path.Combine(config.Output, "logs")}; " +
                    $"dashboard: {started.DashboardLink} (one-time link)"));
            _ = run.ContinueWith(_ => shown.Writer.TryComplete(), TaskScheduler.Default);
            foreach (var show in shown.Reader.ReadAllAsync().ToBlockingEnumerable())
            {
                show(status, progress);
            }

            return run.GetAwaiter().GetResult();
        });
        if (!success)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
            return 1;
        }

        AnsiConsole.MarkupLine($"[green]done[/]: {processes} ranks ({parallel.ToUpperInvariant()}); run [blue]{Markup.Escape(config.Output)}[/]");
        return 0;
    }

    /// <summary>The job's events as status lines of the display.</summary>
    private sealed class QueuedEvents(ChannelWriter<Action<IProgress<string>, IProgress<TrainingProgress>>> shown) : IJobEvents
    {
        public void Report(string message) => shown.TryWrite((status, _) => status.Report(message));
    }

    /// <summary>The ledger of a run that keeps no checkpoints: nothing to resume from, nothing to fence.</summary>
    private sealed class NoCheckpoints : ICheckpointLedger
    {
        public string Location => "nowhere (checkpointing is off: --checkpoint-every 0)";

        public Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default) => Task.FromResult<CommittedCheckpoint?>(null);

        public Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default) => Task.FromResult(new CommittedCheckpoint(0, round, null));

        public Task<Sora.Cluster.Protocol.StoreMarker?> WriteRoundMarkerAsync(long round, CancellationToken cancellationToken = default) => Task.FromResult<Sora.Cluster.Protocol.StoreMarker?>(null);
    }
}
