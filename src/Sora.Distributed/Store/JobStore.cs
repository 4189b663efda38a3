using System.Security.Cryptography;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;

namespace Sora.Distributed.Store;

/// <summary>
/// The job's store: the one place that holds what outlives a process (DESIGN.md §2), a directory proven shared or a
/// blob prefix. Every node's disk is only a cache of it. Its layout (docs/checkpoint-format.md, "A job's store"):
/// <code>
/// vae/checkpoints/   the VAE stage's sharded checkpoints; its latest names the stage's outputs once it has ended
/// dit/checkpoints/   the DiT stage's sharded checkpoints (each records the VAE it was trained against)
/// outputs/KIND/SHA256.EXT   stage outputs, content-addressed (VAE weights, latent statistics, vocabulary)
/// data/NAME/         a generated dataset (multi-node jobs)
/// run/               the run's outputs: weights, EMA weights, samples, loss curves, summary.json
/// control/           the coordinator's markers
/// </code>
/// </summary>
public sealed class JobStore
{
    /// <summary>The VAE stage's checkpoints.</summary>
    public const string VaeCheckpoints = "vae/checkpoints";

    /// <summary>The DiT stage's checkpoints.</summary>
    public const string DiTCheckpoints = "dit/checkpoints";

    /// <summary>The run's outputs.</summary>
    public const string RunPrefix = "run/";

    /// <summary>Generated datasets.</summary>
    public const string DataPrefix = "data/";

    private const string OutputsPrefix = "outputs/";

    /// <param name="store">The store, rooted at the job's prefix.</param>
    /// <param name="location">Where it is, as the job names it (a directory's full path or a blob location): derived locations (a dataset) are built from it.</param>
    /// <param name="credential">How a blob location is authorized (data inside the store is read with the same credential).</param>
    public JobStore(ICheckpointStore store, string location, AzureCredentialKind credential = AzureCredentialKind.Auto)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentException.ThrowIfNullOrEmpty(location);
        Location = location;
        Credential = credential;
    }

    public ICheckpointStore Store { get; }

    /// <summary>The store's location as the job names it (may carry a SAS query: use <see cref="DisplayLocation"/> in messages).</summary>
    public string Location { get; }

    /// <summary>The location without secrets, for messages.</summary>
    public string DisplayLocation => AzureBlobLocation.Redacted(Location);

    public AzureCredentialKind Credential { get; }

    /// <summary>Whether the store is blob storage (else a directory).</summary>
    public bool IsBlob => AzureBlobLocation.IsBlobLocation(Location);

    /// <summary>Opens the store a job's <c>checkpoint.store</c> (or <c>--checkpoint-store</c>) names.</summary>
    public static JobStore Open(string location, AzureCredentialKind credential = AzureCredentialKind.Auto)
    {
        var full = AzureBlobLocation.IsBlobLocation(location) ? location : Path.GetFullPath(location);
        return new JobStore(CheckpointStores.Open(full, credential), full, credential);
    }

    /// <summary>Where a dataset named <paramref name="name"/> lives inside the store (<c>data/NAME</c>), as a path or blob location the data loader opens.</summary>
    public string DataLocation(string name)
    {
        ObjectName.Validate(name, nameof(name));
        return Child(DataPrefix + name);
    }

    /// <summary>
    /// The dataset a launched job's workers read. A generated dataset (<c>data.generate</c> with a local <c>data.path</c>)
    /// of a job that may span nodes, or that keeps its store in blob storage, goes into the store (<c>data/NAME-HASH</c>),
    /// where every node reads it; anything else is read where the job names it.
    /// </summary>
    /// <returns>The data settings for the workers, and whether the dataset lives in (and belongs to) this store.</returns>
    public (Configuration.DataConfig Data, bool InStore) PlaceData(Configuration.DataConfig data, ulong seed, bool multiNode)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Source != Configuration.DataSource.Parquet || !data.Generate || data.IsBlob || (!multiNode && !IsBlob))
        {
            return (data, false);
        }

        return (data with { Path = DataLocation(Pipelines.VideoSet.GeneratedName(data, seed)), Credential = Credential }, true);
    }

    /// <summary>A location inside the store: a blob location keeps its query (a SAS) after the path.</summary>
    public string Child(string relative)
    {
        if (!IsBlob)
        {
            return Path.Combine(Location, relative);
        }

        var query = Location.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? Location : Location[..query];
        return path.TrimEnd('/') + "/" + relative + (query < 0 ? "" : Location[query..]);
    }

    /// <summary>
    /// Puts <paramref name="file"/> into the store under a content-addressed name (<c>outputs/KIND/SHA256.EXT</c>); an
    /// object already there under that name is the same bytes and is not written again.
    /// </summary>
    public async Task<StageOutput> PutOutputAsync(string file, string kind, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(kind, nameof(kind));
        var sha = await Sha256Async(file, cancellationToken).ConfigureAwait(false);
        var size = new FileInfo(file).Length;
        var name = $"{OutputsPrefix}{kind}/{sha}{Path.GetExtension(file)}";
        if (await Store.GetPropertiesAsync(name, cancellationToken).ConfigureAwait(false) is not { } existing || existing.Size != size)
        {
            await PutFileAsync(file, name, cancellationToken).ConfigureAwait(false);
        }

        return new StageOutput(name, sha, size);
    }

    /// <summary>
    /// Makes <paramref name="file"/> hold <paramref name="output"/>: kept when it already has the output's SHA-256 (the
    /// node's cache), else downloaded, checked and moved into place. A download whose hash differs is refused, naming both.
    /// </summary>
    public async Task FetchOutputAsync(StageOutput output, string file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (File.Exists(file) && new FileInfo(file).Length == output.Size && await Sha256Async(file, cancellationToken).ConfigureAwait(false) == output.Sha256)
        {
            return;
        }

        var partial = $"{file}.partial-{Environment.ProcessId}";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        await DownloadAsync(output.Object, partial, cancellationToken).ConfigureAwait(false);
        var sha = await Sha256Async(partial, cancellationToken).ConfigureAwait(false);
        if (sha != output.Sha256)
        {
            File.Delete(partial);
            throw new CheckpointFormatException($"{DisplayLocation}/{output.Object}", $"SHA-256 {sha}, but the stage committed {output.Sha256}: the store's copy is damaged");
        }

        File.Move(partial, file, overwrite: true);
    }

    /// <summary>Puts a run output under <c>run/NAME</c> (replacing an older one).</summary>
    public Task PublishAsync(string file, string name, CancellationToken cancellationToken = default) =>
        PutFileAsync(file, RunPrefix + name, cancellationToken);

    /// <summary>
    /// Publishes a finished run's outputs under <c>run/</c>: every file (but samples already there with the same size: they
    /// were published as training wrote them), then <paramref name="last"/>, whose presence says the run's outputs are
    /// whole (<see cref="IsRunPublishedAsync"/>). Returns the files and bytes it put.
    /// </summary>
    public async Task<(int Files, long Bytes)> PublishRunAsync(IEnumerable<(string File, string Name)> outputs, string last, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        (string File, string Name)? marker = null;
        var (files, bytes) = (0, 0L);
        foreach (var (file, name) in outputs)
        {
            if (name == last)
            {
                marker = (file, name);
                continue;
            }

            // Samples went up as training wrote them; everything else is the finished run's and goes up now.
            var sample = name.StartsWith("samples/", StringComparison.Ordinal);
            if (!sample || await Store.GetPropertiesAsync(RunPrefix + name, cancellationToken).ConfigureAwait(false) is not { } stored || stored.Size != new FileInfo(file).Length)
            {
                await PublishAsync(file, name, cancellationToken).ConfigureAwait(false);
                (files, bytes) = (files + 1, bytes + new FileInfo(file).Length);
            }
        }

        if (marker is { } summary)
        {
            await PublishAsync(summary.File, summary.Name, cancellationToken).ConfigureAwait(false);
            (files, bytes) = (files + 1, bytes + new FileInfo(summary.File).Length);
        }

        return (files, bytes);
    }

    /// <summary>Whether a finished run published its outputs here (the last of them, <paramref name="last"/>, is under <c>run/</c>).</summary>
    public async Task<bool> IsRunPublishedAsync(string last, CancellationToken cancellationToken = default) =>
        await Store.GetPropertiesAsync(RunPrefix + last, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Copies every object under <paramref name="prefix"/> into <paramref name="directory"/> (names relative to the prefix), skipping files of the same size already there.</summary>
    public async Task<int> DownloadAllAsync(string prefix, string directory, CancellationToken cancellationToken = default)
    {
        var count = 0;
        await foreach (var found in Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var target = Path.Combine(directory, found.Name[prefix.Length..]);
            if (File.Exists(target) && new FileInfo(target).Length == found.Size && File.GetLastWriteTimeUtc(target) >= found.LastModified.UtcDateTime)
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var partial = $"{target}.partial-{Environment.ProcessId}";
            await DownloadAsync(found.Name, partial, cancellationToken).ConfigureAwait(false);
            File.Move(partial, target, overwrite: true);
            count++;
        }

        return count;
    }

    private async Task PutFileAsync(string file, string name, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(file);
        await using (stream.ConfigureAwait(false))
        {
            await Store.PutAsync(name, stream, PutCondition.None, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DownloadAsync(string name, string file, CancellationToken cancellationToken)
    {
        var source = await Store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            var target = File.Create(file);
            await using (target.ConfigureAwait(false))
            {
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<string> Sha256Async(string file, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(file);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }
}
