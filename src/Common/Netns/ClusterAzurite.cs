using Azure.Core.Pipeline;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;

namespace Sora.Netns;

/// <summary>
/// Azurite running on one host of a <see cref="NetnsCluster"/> (<see cref="NetnsCluster.StartAzuriteAsync"/>): the
/// store the hosts share, at the host's address. Give <see cref="Environment"/> to the processes that use it (they
/// name it as <c>az://CONTAINER[/PREFIX]</c>); read and write it from the test through <see cref="OpenStore"/>.
/// </summary>
internal sealed class ClusterAzurite
{
    /// <summary>Azurite's usual blob port.</summary>
    public const int DefaultPort = 10000;

    internal static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly NetnsCluster _cluster;

    internal ClusterAzurite(NetnsCluster cluster, int host, int port, HostProcess process)
    {
        _cluster = cluster;
        Host = host;
        Port = port;
        Process = process;
    }

    /// <summary>The host it runs on.</summary>
    public int Host { get; }

    public int Port { get; }

    /// <summary>The Azurite process (kill, stop, freeze it as a failing storage service).</summary>
    public HostProcess Process { get; }

    /// <summary>The development account's endpoint at the host's address, <c>http://10.a.b.c:PORT/devstoreaccount1</c>.</summary>
    public Uri BlobEndpoint => AzuriteProcess.EndpointAt(_cluster.Address(Host), Port);

    /// <summary>The development account's connection string (its key is public, documented for the emulators).</summary>
    public string ConnectionString => AzuriteProcess.ConnectionStringFor(BlobEndpoint);

    /// <summary>What a process on any host needs to reach this store at <c>az://CONTAINER[/PREFIX]</c>: <c>AZURE_STORAGE_CONNECTION_STRING</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { [AzureBlobLocation.ConnectionStringVariable] = ConnectionString };

    /// <summary>
    /// The store at <paramref name="location"/> (<c>az://CONTAINER[/PREFIX]</c>, as a job's <c>checkpoint.store</c> names it) as the
    /// test host sees it: opened by Sora.Checkpoint's <see cref="CheckpointStores"/> exactly as a process with <see cref="Environment"/>
    /// would, its connections opened from host <paramref name="fromHost"/> (default: Azurite's own host; see <see cref="NetnsCluster.HttpClient"/>).
    /// The container is created on the first write.
    /// </summary>
    public ICheckpointStore OpenStore(string location, int? fromHost = null)
    {
        var options = new AzureBlobStoreOptions { Transport = new HttpClientTransport(_cluster.HttpClient(fromHost ?? Host)) };
        return CheckpointStores.Open(location, AzureCredentialKind.ConnectionString, name => Environment.GetValueOrDefault(name), options);
    }
}
