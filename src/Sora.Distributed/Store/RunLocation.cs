using System.Security.Cryptography;
using System.Text;
using Sora.Data.Storage;
using Sora.Distributed.Pipelines;

namespace Sora.Distributed.Store;

/// <summary>
/// The run a command names with <c>--run</c>: a run directory, a job's store in a directory (its <c>run/</c>), or a job's
/// store in blob storage (<c>az://CONTAINER/PREFIX</c> or its URL), whose <c>run/</c> is copied into a local cache first
/// (<c>$SORA_CACHE</c>, else <c>~/.cache/sora</c>; files already there with the same size are not fetched again).
/// </summary>
public static class RunLocation
{
    /// <summary>The run's directory on this machine, fetched from the store first when <paramref name="run"/> is one.</summary>
    public static RunDirectory Open(string run, AzureCredentialKind credential = AzureCredentialKind.Auto, IProgress<string>? progress = null, string? cacheRoot = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(run);
        if (!AzureBlobLocation.IsBlobLocation(run))
        {
            var directory = new RunDirectory(run);
            var inStore = Path.Combine(directory.Path, JobStore.RunPrefix.TrimEnd('/'));
            return !File.Exists(directory.JobFile) && File.Exists(Path.Combine(inStore, "job.yaml")) ? new RunDirectory(inStore) : directory;
        }

        var store = JobStore.Open(run, credential);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store.DisplayLocation)))[..16];
        var cache = Path.Combine(cacheRoot ?? DefaultCacheRoot(), "runs", key);
        progress?.Report($"fetching the run from {store.DisplayLocation}/{JobStore.RunPrefix} into {cache}");
        var fetched = store.DownloadAllAsync(JobStore.RunPrefix, cache).GetAwaiter().GetResult();
        var local = new RunDirectory(cache);
        if (!File.Exists(local.JobFile))
        {
            throw new FileNotFoundException($"{store.DisplayLocation}: no finished run in this store ({JobStore.RunPrefix}job.yaml is missing): has the job published its outputs (it does when it ends)?");
        }

        progress?.Report($"{fetched} file(s) fetched, the rest were cached");
        return local;
    }

    private static string DefaultCacheRoot() =>
        Environment.GetEnvironmentVariable("SORA_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "sora");
}
