using System.Diagnostics;
using System.Globalization;
using Sora.Data.Storage;

namespace Sora.Cluster.Workers;

/// <summary>Where one worker of a round runs: the job file it trains, its ranks, the rendezvous store, the address Gloo binds, its share of the node's threads.</summary>
/// <param name="JobFile">The job file on this node.</param>
/// <param name="Rank">Its global rank.</param>
/// <param name="LocalRank">Its rank on this node (its device index).</param>
/// <param name="WorldSize">Ranks in the round.</param>
/// <param name="StoreHost">The c10d store's host.</param>
/// <param name="StorePort">Its port.</param>
/// <param name="Round">The round (c10d prefix <c>round-N/train</c>, checkpoint fence).</param>
/// <param name="Host">The address this node's workers bind and announce for Gloo.</param>
/// <param name="Threads">Its share of the node's CPU threads.</param>
public sealed record WorkerPlacement(string JobFile, int Rank, int LocalRank, int WorldSize, string StoreHost, int StorePort, long Round, string Host, int Threads);

/// <summary>What every worker of a job gets on its command line besides its placement.</summary>
/// <param name="Parallel">ddp or fsdp.</param>
/// <param name="Timeout">Rendezvous and collective timeout.</param>
/// <param name="Checkpoints">Checkpointing, or null for none.</param>
public sealed record WorkerJobOptions(string Parallel, TimeSpan Timeout, WorkerCheckpoints? Checkpoints)
{
    /// <summary>Where the workers read the dataset when the coordinator placed it elsewhere than the job file says (in the job's store), or null.</summary>
    public WorkerDataset? Dataset { get; init; }
}

/// <summary>A dataset location the coordinator chose for the workers (a generated dataset in the job's store).</summary>
/// <param name="Path">A directory or blob location.</param>
/// <param name="Credential">How a blob location is authorized.</param>
public sealed record WorkerDataset(string Path, AzureCredentialKind Credential);

/// <summary>A job's checkpoints as its workers are told: every N DiT steps into a store, with retention.</summary>
/// <param name="Every">Steps between checkpoints (0: none, but a resume still reads the store).</param>
/// <param name="Store">A directory or a blob location.</param>
/// <param name="Credential">How a blob store is authorized.</param>
/// <param name="KeepLast">Retention: the newest K (0: all).</param>
/// <param name="KeepEvery">Retention: also every multiple of M (0: none).</param>
public sealed record WorkerCheckpoints(long Every, string Store, AzureCredentialKind Credential, long KeepLast, long KeepEvery)
{
    /// <summary>A connection string naming the blob account (instead of <see cref="Store"/>), or null.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The blob container with <see cref="ConnectionString"/>.</summary>
    public string Container { get; init; } = "checkpoints";
}

/// <summary>
/// The one place a training worker's command line and environment are made: <c>sora train JOB --rank … --agent</c> with the
/// job's arguments, the thread share in OPENBLAS_NUM_THREADS and OMP_* (read before libtorch loads), and its ranks and round
/// in SORA_*. Agents start every worker with <see cref="StartInfo"/>; <c>sora train</c> parses what this writes.
/// </summary>
public static class WorkerCommandLine
{
    /// <summary>How a worker started by an agent starts: <paramref name="program"/> (the program and leading arguments that run <c>sora</c>) with the worker's arguments and environment.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> program, WorkerPlacement placement, IEnumerable<string> jobArguments)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(placement);
        var info = new ProcessStartInfo(program[0]);
        foreach (var argument in program.Skip(1).Concat(Arguments(placement, jobArguments)))
        {
            info.ArgumentList.Add(argument);
        }

        SetEnvironment(info, placement.Rank, placement.LocalRank, placement.WorldSize, placement.Round, placement.Threads);
        return info;
    }

    /// <summary>The worker's arguments: its placement, then the job's.</summary>
    public static IReadOnlyList<string> Arguments(WorkerPlacement placement, IEnumerable<string> jobArguments)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(jobArguments);
        return
        [
            "train", placement.JobFile, "--rank", Text(placement.Rank), "--world-size", Text(placement.WorldSize),
            "--master-addr", placement.StoreHost, "--master-port", Text(placement.StorePort), "--round", Text(placement.Round),
            "--host", placement.Host, "--threads", Text(placement.Threads), "--agent",
            .. jobArguments,
        ];
    }

    /// <summary>The arguments every worker of a job gets (the coordinator's <c>JobSpec.WorkerArguments</c>).</summary>
    public static IReadOnlyList<string> JobArguments(WorkerJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var arguments = new List<string> { "--parallel", options.Parallel, "--timeout", options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) };
        if (options.Checkpoints is { } c)
        {
            arguments.AddRange(
            [
                "--checkpoint-every", Text(c.Every), "--checkpoint-store", c.Store, "--checkpoint-credential", AzureBlobLocation.Kebab(c.Credential),
                "--keep-last", Text(c.KeepLast), "--keep-every", Text(c.KeepEvery),
            ]);
            if (c.ConnectionString is { } connection)
            {
                arguments.AddRange(["--checkpoint-connection-string", connection, "--checkpoint-container", c.Container]);
            }
        }

        if (options.Dataset is { } dataset)
        {
            arguments.AddRange(["--data-path", dataset.Path, "--data-credential", AzureBlobLocation.Kebab(dataset.Credential)]);
        }

        return arguments;
    }

    /// <summary>The arguments that make a worker resume from <paramref name="checkpoint"/> ("latest" or a step).</summary>
    public static IReadOnlyList<string> Resume(string checkpoint) => ["--resume", checkpoint];

    /// <summary>
    /// A worker's environment: its thread share for OpenBLAS's pool (which obeys only OPENBLAS_NUM_THREADS) and libgomp
    /// (OMP_WAIT_POLICY=PASSIVE: spinning OpenMP threads next to OpenBLAS's halved the step rate), and its ranks and round.
    /// </summary>
    public static void SetEnvironment(ProcessStartInfo info, int rank, int localRank, int worldSize, long round, int threads)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.Environment["OPENBLAS_NUM_THREADS"] = Text(threads);
        info.Environment["OMP_NUM_THREADS"] = Text(threads);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        info.Environment["SORA_RANK"] = Text(rank);
        info.Environment["SORA_LOCAL_RANK"] = Text(localRank);
        info.Environment["SORA_WORLD_SIZE"] = Text(worldSize);
        info.Environment["SORA_ROUND"] = Text(round);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
