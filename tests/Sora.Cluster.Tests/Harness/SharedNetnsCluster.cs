using Sora.Netns;

namespace Sora.Cluster.Tests.Harness;

/// <summary>One 2-host <see cref="NetnsCluster"/> for a test class whose tests leave its topology as they found it.</summary>
public sealed class SharedNetnsCluster : IAsyncLifetime
{
    private NetnsCluster? _cluster;

    /// <summary>The cluster; only tests that were not skipped (see <see cref="NetnsFactAttribute"/>) may ask.</summary>
    internal NetnsCluster Cluster => _cluster ??= NetnsCluster.Create(2);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
