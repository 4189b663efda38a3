using Sora.Data.Dataset;

namespace Sora.Data.Storage;

/// <summary>Turns the dataset paths a job or the CLI names (a local path, or a blob location) into shard sources and sinks.</summary>
public static class ShardStorage
{
    /// <summary>Where the shards under <paramref name="path"/> are read from.</summary>
    /// <param name="path">A shard file, a directory of shards, or a blob location (<see cref="AzureBlobLocation.Parse"/>).</param>
    /// <param name="credential">How a blob location is authorized.</param>
    /// <param name="cacheDirectory">Blob locations: where whole shards are kept once read (null: none).</param>
    /// <param name="environment">Reads the variables that hold secrets (the process environment by default).</param>
    public static IShardSource OpenSource(string path, AzureCredentialKind credential = AzureCredentialKind.Auto, string? cacheDirectory = null, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return AzureBlobLocation.IsBlobLocation(path)
            ? new AzureBlobShardSource(AzureBlobLocation.Parse(path, credential), cacheDirectory, environment)
            : new DirectoryShardSource(path);
    }

    /// <summary>Where new shards named <paramref name="prefix"/>* go: a local directory or a blob location.</summary>
    public static IShardSink OpenSink(string output, string prefix, AzureCredentialKind credential = AzureCredentialKind.Auto, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        return AzureBlobLocation.IsBlobLocation(output)
            ? new AzureBlobShardSink(AzureBlobLocation.Parse(output, credential), prefix, environment)
            : new DirectoryShardSink(Path.GetFullPath(output), prefix);
    }
}
