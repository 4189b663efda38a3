using Sora.Cluster.Tests.Harness;
using Sora.Netns;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// <see cref="ClusterJob"/>'s private-disk mode for real: two agent hosts that share nothing but Azurite on host 0 train the
/// tiny job: its checkpoints and final weights reach the store, no checkpoint lands on a host's disk.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ClusterJobTests
{
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(6);

    [NetnsFact]
    public async Task With_private_disks_the_checkpoints_reach_azurite_on_the_cluster_and_no_hosts_disk()
    {
        await using var job = await ClusterJob.StartAsync(hosts: 3, nodes: "2", workersPerHost: 1, privateDisks: true);
        job.Store.Should().MatchRegex("^az://sora/job-[0-9a-f]{8}$");

        await job.WaitForCheckpointAsync(4, JobLimit);

        for (var host = 0; host < job.Cluster.HostCount; host++)
        {
            Directory.Exists(job.Cluster.PrivatePath(host, Path.Combine(job.Output, "checkpoints"))).Should().BeFalse($"host {host} keeps no checkpoint of its own");
        }

        Directory.EnumerateFiles(job.Cluster.PrivatePath(1, job.Directory), "*.yaml", SearchOption.AllDirectories).Should().NotBeEmpty("host 1's agent wrote the job it was sent on its own disk");
        File.Exists(job.Cluster.PrivatePath(1, job.JobFile)).Should().BeFalse("only the coordinator's host has the job file the test wrote");
        (await job.Coordinator!.WaitForExitAsync(JobLimit)).Should().Be(0, job.Coordinator.Tail(60));
        (await job.ReadStoreObjectAsync(NetnsJob.FinalWeightsObject)).Should().NotBeNullOrEmpty("the run's outputs are published to the store");
    }
}
