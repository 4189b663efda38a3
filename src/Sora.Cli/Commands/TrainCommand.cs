using System.CommandLine;
using Sora.Cli.Console;
using Sora.Cli.Launch;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Store;
using Sora.Distributed.Training;
using Sora.Torch.Distributed;
using Spectre.Console;
using Sora.Cluster.Workers;
using Sora.Data;
using Sora.Metrics.Pipeline;

namespace Sora.Cli.Commands;

/// <summary>
/// <c>sora train job.yaml</c>: trains the VAE and the DiT and writes a run directory; on one process, or with
/// <c>--nproc-per-node N</c> on N worker processes of this machine (data parallel over Gloo) through
/// <c>sora launch</c>'s standalone path with fail-fast settings (<see cref="StandaloneTraining"/>).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var job = new Argument<FileInfo>("job") { Description = "The YAML job file (configs/tiny.yaml is the CPU demo)." };
        var output = new Option<string?>("--output") { Description = "Run directory (default: the job's output)." };
        var processes = new Option<int?>("--nproc-per-node") { Description = "Worker processes to start on this machine (data parallel; the batch sizes must be multiples), run like `sora launch` but failing fast: no restarts, checkpoints only when asked. Default: the visible GPUs when the device is CUDA, else 1." };
        var device = DeviceOption.Create();
        var parallel = new Option<DataParallelism>("--parallel") { Description = "With --nproc-per-node: ddp (replicated model) or fsdp (sharded parameters, gradients and optimizer state).", DefaultValueFactory = _ => DataParallelism.Ddp };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Save a sharded checkpoint of the DiT stage after every N steps (0: none).", DefaultValueFactory = _ => 0 };
        var checkpointStore = new Option<string?>("--checkpoint-store") { Description = "Directory for checkpoints (default: <output>/checkpoints), or a blob container: az://CONTAINER (account from AZURE_STORAGE_CONNECTION_STRING) or https://ACCOUNT.blob.core.windows.net/CONTAINER." };
        var checkpointCredential = StorageOptions.Credential("--checkpoint-credential", "--checkpoint-store");
        var checkpointConnection = new Option<string?>("--checkpoint-connection-string") { Description = "Write checkpoints to Azure Blob storage (a connection string; UseDevelopmentStorage=true for Azurite) instead of a directory." };
        var checkpointContainer = new Option<string>("--checkpoint-container") { Description = "The blob container for --checkpoint-connection-string.", DefaultValueFactory = _ => "checkpoints" };
        var resume = new Option<string?>("--resume") { Description = "Resume the DiT stage from 'latest' or a step number (the VAE comes from the run directory)." };
        var keepLast = new Option<int>("--keep-last") { Description = "Retention: keep the newest K checkpoints (0: all).", DefaultValueFactory = _ => 3 };
        var keepEvery = new Option<long>("--keep-every") { Description = "Retention: also keep every checkpoint whose step is a multiple of M (0: none).", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a rank waits for the others (rendezvous and each collective) before failing.", DefaultValueFactory = _ => 300 };

        // Set by the launcher on the workers it starts.
        var rank = new Option<int?>("--rank") { Hidden = true };
        var worldSize = new Option<int>("--world-size") { Hidden = true, DefaultValueFactory = _ => 1 };
        var masterPort = new Option<int>("--master-port") { Hidden = true };
        var masterAddress = new Option<string>("--master-addr") { Hidden = true, DefaultValueFactory = _ => "127.0.0.1" };
        var threads = new Option<int?>("--threads") { Hidden = true };

        // Set by an agent of `sora launch` on the workers it starts.
        var round = new Option<long>("--round") { Hidden = true, Description = "The job's round: the rendezvous prefix round-N/train and the checkpoint fence.", DefaultValueFactory = _ => 0 };
        var host = new Option<string>("--host") { Hidden = true, Description = "The address Gloo binds and announces to the other ranks.", DefaultValueFactory = _ => "127.0.0.1" };
        var agent = new Option<bool>("--agent") { Hidden = true, Description = "Started by an agent: every rank reports progress, and stdin is the control channel." };
        var dataPath = new Option<string?>("--data-path") { Hidden = true, Description = "Where the job's dataset is (the coordinator's choice: inside the job's store for a multi-node job); overrides data.path." };
        var dataCredential = StorageOptions.Credential("--data-credential", "--data-path");
        dataCredential.Hidden = true;

        var command = new Command("train", "Train the model of a job file on this machine and write weights, samples and loss curves.")
        {
            job, output, processes, device, parallel, checkpointEvery, checkpointStore, checkpointCredential, checkpointConnection, checkpointContainer, resume, keepLast, keepEvery, timeout, rank, worldSize, masterPort, masterAddress, threads, round, host, agent,
            dataPath, dataCredential,
        };
        command.SetAction(parse =>
        {
            var jobFile = parse.GetRequiredValue(job).FullName;
            var config = JobConfig.Load(jobFile);
            if (parse.GetValue(output) is { } directory)
            {
                config = config with { Output = directory };
            }

            if (parse.GetValue(threads) is { } count)
            {
                config = config with { Threads = count };
            }

            if (parse.GetValue(dataPath) is { } data)
            {
                config = config with { Data = config.Data with { Path = data, Credential = parse.GetValue(dataCredential) } };
            }

            config = config with { Device = DeviceOption.Setting(parse, device, config) };

            var limit = TimeSpan.FromSeconds(parse.GetValue(timeout));
            var every = parse.GetValue(checkpointEvery);
            var resumeFrom = parse.GetValue(resume);
            var storeDirectory = parse.GetValue(checkpointStore) ?? Path.Combine(config.Output, "checkpoints");
            var connection = parse.GetValue(checkpointConnection);
            var container = parse.GetValue(checkpointContainer)!;
            var credential = parse.GetValue(checkpointCredential);
            JobStore Store() => connection is null ? JobStore.Open(storeDirectory, credential) : new JobStore(AzureBlobStore.FromConnectionString(connection, container), AzureBlobLocation.Scheme + container);
            var checkpoints = every > 0 || resumeFrom is not null
                ? new CheckpointOptions(Store(), every, resumeFrom, parse.GetValue(keepLast), parse.GetValue(keepEvery))
                : null;
            if (parse.GetValue(rank) is { } r)
            {
                var worker = new WorkerArguments(r, parse.GetValue(worldSize), parse.GetRequiredValue(masterAddress), parse.GetValue(masterPort), parse.GetRequiredValue(host),
                    parse.GetValue(round), parse.GetValue(agent), limit);
                return RunWorker(config, worker, parse.GetValue(parallel), checkpoints);
            }

            var n = parse.GetValue(processes) ?? DevicePlacement.DefaultProcessesPerNode(config.Device);
            if (n < 1)
            {
                throw new ArgumentException($"--nproc-per-node must be >= 1 (got {n})");
            }

            // Refused here, before any worker starts, when the highest local rank would have no device of its own (with one
            // process this is its own placement).
            var placement = DevicePlacement.ForThisProcess(config.Device, localRank: n - 1);
            RuntimeCheck.WarnIfSlowBlas();
            if (n > 1)
            {
                var workerCheckpoints = checkpoints is null ? null :
                    new WorkerCheckpoints(every, storeDirectory, credential, parse.GetValue(keepLast), parse.GetValue(keepEvery)) { ConnectionString = connection, Container = container };

                // The workers read the job the agent is sent: --device travels in its text.
                var sent = parse.GetValue(device) is { } setting ? config.WithDevice(setting) : config;
                return StandaloneTraining.Run(sent, n, limit, parse.GetValue(parallel).ToString().ToLowerInvariant(), workerCheckpoints, checkpoints?.Store.Store, resumeFrom);
            }

            var result = new TrainingDisplay().Run((status, progress) => new TrainingJob(config, status, progress, checkpoints: checkpoints, placement: placement.Activate()).Run());
            PrintResult(config, result);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// One rank of a job started by a launcher or an agent. With <see cref="WorkerArguments.Agent"/>, every rank reports
    /// progress and a stop read from stdin ends the job after a checkpoint (exit 0, after a line naming the step).
    /// </summary>
    private static int RunWorker(JobConfig config, WorkerArguments worker, DataParallelism parallelism, CheckpointOptions? checkpoints)
    {
        if (worker.Round < 0)
        {
            throw new ArgumentException($"--round must be >= 0 (got {worker.Round})");
        }

        var (status, progress, messages) = WorkerMessages.Writers(System.Console.Out);
        var reports = worker.Agent || worker.Rank == 0;
        TrainingControl? control = null;
        if (worker.Agent)
        {
            control = new TrainingControl();
            AgentControlChannel.Listen(System.Console.In, control, System.Console.Error, worker.Rank, ImmediateExit.Exit);
        }

        // cuda:LOCAL_RANK with NCCL, or the CPU with Gloo (a refusal ends the worker before it joins the rendezvous).
        var placement = DevicePlacement.ForThisProcess(config.Device, DevicePlacement.LocalRankFromEnvironment(worker.Rank)).Activate();
        using var store = TcpStore.Connect(worker.MasterAddress, worker.MasterPort, worker.Timeout);
        // A fresh prefix per round: keys a previous round's ranks left in the coordinator's store never meet this one's.
        using var scoped = store.WithPrefix(worker.Round > 0 ? $"round-{worker.Round}/train" : "train");
        using var group = ProcessGroup.Create(placement.Backend, scoped, worker.Rank, worker.WorldSize, worker.Timeout, worker.Host);
        var fenced = checkpoints is null ? null : checkpoints with { Round = worker.Round };

        // Under an agent every rank reports its metrics (the coordinator's /metrics and dashboard) and rank 0 its sample videos.
        using var recorder = worker.Agent ? new RankMetricsRecorder(WorkerMetricsReporter.MeasurePeakFlops(placement.Device, config.Training.MixedPrecision ?? Sora.Torch.ScalarType.Float32)) : null;
        IProgress<TrainingProgress>? training = recorder is null ? (reports ? progress : null) : new WorkerMetricsReporter(progress, messages, recorder);
        var result = new TrainingJob(config, reports ? status : null, training, group: group, parallelism: parallelism, checkpoints: fenced, control: control, placement: placement)
        {
            SampleWritten = worker.Agent ? new SynchronousProgress<SampleFile>(file => messages.Report(new WorkerMessage { Sample = file })) : null,
        }.Run();
        if (result is { StoppedAtStep: { } step, StoppedStage: { } stage })
        {
            var committed = result.StopCheckpointCommitted switch
            {
                true => "committed",
                false => "NOT committed",
                null when fenced is null => "none (checkpointing is off)",
                null => "committed by rank 0",
            };
            messages.Report(new WorkerMessage
            {
                Status = $"rank {worker.Rank} stopped ({control?.Reason ?? "requested by another rank"}) after {stage} step {step}; final checkpoint: {committed}",
                Stopped = new WorkerStopped(stage, step, result.StopCheckpointCommitted, control?.Reason),
            });
        }

        return 0;
    }

    /// <summary>What a launcher or agent tells one worker: its rank, the rendezvous store, the address Gloo binds, the round.</summary>
    private sealed record WorkerArguments(int Rank, int WorldSize, string MasterAddress, int MasterPort, string Host, long Round, bool Agent, TimeSpan Timeout);

    private static void PrintResult(JobConfig config, TrainingJobResult result)
    {
        AnsiConsole.MarkupLine($"[green]done[/] in {result.Elapsed:hh\\:mm\\:ss}: run [blue]{Markup.Escape(result.RunDirectory)}[/]");
        AnsiConsole.MarkupLine($"  loss curve  {Markup.Escape(result.LossCurve)}");
        foreach (var sample in result.Samples.TakeLast(config.Sampling.Prompts.Count))
        {
            AnsiConsole.MarkupLine($"  sample      {Markup.Escape(sample)} (and .gif, .png)");
        }

        if (result.DiTHeldOutLoss.Count > 0)
        {
            AnsiConsole.MarkupLine($"  held-out rectified-flow loss {result.DiTHeldOutLoss[0]:F4} → {result.DiTHeldOutLoss[^1]:F4}");
        }
    }
}
