using System.Globalization;
using System.Text;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Tests.Common;
using Sora.Netns;

namespace Sora.Cluster.Tests.Harness;

/// <summary>
/// Azurite on a namespace host as the one store private-disk hosts share: reachable from every host over the namespace
/// network (the SDK from the test host's sockets on host 1 and host 2, and <c>sora</c> on a host through
/// <c>AZURE_STORAGE_CONNECTION_STRING</c>), living in its host's network namespace only.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ClusterAzuriteTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [NetnsFact]
    public async Task A_blob_put_from_host_1_is_read_on_host_2_by_the_sdk_and_by_sora()
    {
        await using var cluster = NetnsCluster.Create(3);
        var azurite = await cluster.StartAzuriteAsync(0);
        NetnsScript.RunIp("netns", "identify", azurite.Process.Pid.ToString(CultureInfo.InvariantCulture)).Trim().Should().Be(cluster.Namespace(0),
            "the store lives on host 0's network only");
        azurite.BlobEndpoint.Host.Should().Be(cluster.Address(0));

        var layout = new CheckpointLayout();
        var shard = layout.Shard(123, 0, 1);
        var content = Encoding.UTF8.GetBytes("written through host 1");
        await azurite.OpenStore("az://shared/job-1", fromHost: 1).PutAsync(shard, new MemoryStream(content));
        (await azurite.OpenStore("az://shared/job-1", fromHost: 2).ReadAllBytesAsync(shard)).Should().Equal(content);

        var (program, arguments) = SoraProcess.Command("checkpoints", "list", "--store", "az://shared/job-1");
        using var list = cluster.Start(2, program, arguments, new Dictionary<string, string>(azurite.Environment));
        (await list.WaitForExitAsync(Patience)).Should().Be(0, list.Output);
        list.Output.Should().MatchRegex(@"123\D[^\n]*incomplete", "sora on host 2 lists the step-123 folder host 1 wrote (a shard, no manifest)");
    }

    [NetnsFact]
    public async Task A_store_on_a_private_disk_outlives_a_restart_of_azurite()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sora-netns-storage-{Guid.NewGuid():N}");
        try
        {
            await using var cluster = NetnsCluster.Create(2, privateDirectories: [directory]);
            var location = Path.Combine(directory, "azurite");
            var azurite = await cluster.StartAzuriteAsync(1, location);
            await azurite.OpenStore("az://kept", fromHost: 0).PutAsync("run/summary.json", new MemoryStream("{}"u8.ToArray()));

            azurite.Process.Stop();
            await azurite.Process.WaitForExitAsync(Patience);
            Directory.Exists(cluster.PrivatePath(1, location)).Should().BeTrue("Azurite keeps its blobs on the storage host's own disk");
            Directory.Exists(cluster.PrivatePath(0, location)).Should().BeFalse();

            var again = await cluster.StartAzuriteAsync(1, location);
            (await again.OpenStore("az://kept", fromHost: 0).ReadAllBytesAsync("run/summary.json")).Should().Equal("{}"u8.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
