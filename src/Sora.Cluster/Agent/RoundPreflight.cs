using Sora.Cluster.Protocol;
using Sora.Data.Storage;
using Sora.Distributed.Configuration;

namespace Sora.Cluster.Agent;

/// <summary>
/// What a node checks before it starts any worker of a round, and the job file it writes for them. A check that fails
/// would fail every worker the same way, on every restart: the agent starts nothing and the coordinator ends the job
/// with the reason (<see cref="RoundRefused"/>), which names the node, what is wrong and how to fix it.
/// </summary>
public static class RoundPreflight
{
    /// <summary>Checks <paramref name="start"/> on this node and writes its job file into <paramref name="workDirectory"/>; throws <see cref="RoundCheckException"/> when a check fails.</summary>
    /// <returns>The job and the file the workers get.</returns>
    public static (JobConfig Job, string JobFile) Prepare(StartRound start, string node, string workDirectory, Func<string, string?>? readMarker = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        JobConfig job;
        try
        {
            job = JobConfig.Parse(start.JobYaml, $"job '{start.JobName}' (sent by the coordinator)");
        }
        catch (ConfigException e)
        {
            throw new RoundCheckException($"node '{node}': the job file does not read: {e.Message}");
        }

        if (CheckMarker(start.Marker, node, readMarker ?? ReadMarker) is { } marker)
        {
            throw new RoundCheckException(marker);
        }

        if (CheckData(job.Data, node, p => File.Exists(p) || Directory.Exists(p)) is { } data)
        {
            throw new RoundCheckException(data);
        }

        Directory.CreateDirectory(workDirectory);
        var jobFile = Path.Combine(workDirectory, $"{start.JobName}.yaml");
        File.WriteAllText(jobFile, start.JobYaml);
        return (job, jobFile);
    }

    /// <summary>
    /// The shared-directory proof (the job's store is a directory): this node must read the nonce the coordinator wrote
    /// when it fenced the round. Null when it does (or the store is a blob store: no marker); else the reason.
    /// </summary>
    public static string? CheckMarker(StoreMarker? marker, string node, Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (marker is null)
        {
            return null;
        }

        var found = read(marker.Path);
        if (found?.Trim() == marker.Nonce)
        {
            return null;
        }

        var what = found is null ? "is missing" : "holds another nonce than the one the coordinator just wrote";
        return $"node '{node}' does not share the job's store with the coordinator: its round marker {marker.Path} {what} on this node, "
            + "so checkpoints written here would not be the ones the other nodes read. Fix: set checkpoint.store to a blob location "
            + "(az://CONTAINER/PREFIX), or mount one shared volume at the same path on every node";
    }

    /// <summary>A local dataset (<c>data.path</c>, not generated) must exist on this node. Null when it does or none is needed; else the reason.</summary>
    public static string? CheckData(DataConfig data, string node, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(exists);
        if (data.Source != DataSource.Parquet || data.Generate || data.Path is null || AzureBlobLocation.IsBlobLocation(data.Path))
        {
            return null;
        }

        var path = Path.GetFullPath(data.Path);
        return exists(path) ? null
            : $"node '{node}': data.path {data.Path} ({path}) does not exist on this node and data.generate is false. Fix: write the dataset there "
              + "(sora data gen or sora data import), point data.path at it, or set data.generate: true";
    }

    private static string? ReadMarker(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>A node's check before a round failed (see <see cref="RoundPreflight"/>).</summary>
public sealed class RoundCheckException(string message) : Exception(message);
