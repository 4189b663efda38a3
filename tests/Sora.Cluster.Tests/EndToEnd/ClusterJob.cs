using System.Globalization;
using Sora.Netns;
using Sora.Tests.Common;

namespace Sora.Cluster.Tests.EndToEnd;

/// <summary>
/// The tests' jobs on a network-namespace cluster (<see cref="NetnsJob"/>): the tiny model (a few VAE and DiT steps, a
/// checkpoint every few steps) run by the <c>sora</c> built next to this test assembly. 40 DiT steps by default: a
/// fault injected after the checkpoint of step 4 or 8 must land on a running job, and a quiet machine trains 15 steps a
/// second.
/// </summary>
internal static class ClusterJob
{
    /// <summary>
    /// A cluster of <paramref name="hosts"/> hosts (host 0: the coordinator's) and the job file; with <paramref name="privateDisks"/>,
    /// each host's own working directory and Azurite on host 0 as the job's store.
    /// </summary>
    /// <param name="generatedData">Whether the job reads a generated Parquet dataset (<c>data.generate</c>, written once into the store by the coordinator) instead of clips made in memory.</param>
    /// <param name="coordinatorTimeout">Seconds an agent's workers train on without the coordinator.</param>
    /// <param name="directoryStore">With private disks, a directory store anyway (each host its own: see <see cref="NetnsJob.CreateAsync"/>).</param>
    public static Task<NetnsJob> CreateAsync(int hosts, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 40, int checkpointEvery = 4, bool privateDisks = false,
        int vaeSteps = 6, bool generatedData = false, double coordinatorTimeout = 5, bool directoryStore = false) =>
        NetnsJob.CreateAsync(hosts, privateDisks, SoraProcess.Command, (file, store, output) =>
            SoraProcess.WriteTinyJob(Path.GetDirectoryName(file)!, ditSteps, vaeSteps: vaeSteps, dataset: generatedData ? "data/shapes" : null, extraYaml: string.Create(CultureInfo.InvariantCulture, $"""
                output: {output}
                checkpoint:
                  store: {store}
                  every: {checkpointEvery}
                  keep_last: 0
                fault:
                  max_restarts: {maxRestarts}
                  hang_timeout: {hangTimeout}
                  coordinator_timeout: {coordinatorTimeout}
                  rendezvous_wait: 2
                """)), directoryStore);

    /// <summary>A cluster running the job: the coordinator on host 0 and an agent of <paramref name="workersPerHost"/> workers on every other host.</summary>
    public static async Task<NetnsJob> StartAsync(int hosts, string nodes, int workersPerHost, int maxRestarts = 3, double hangTimeout = 60, int ditSteps = 40, bool privateDisks = false,
        int vaeSteps = 6, int checkpointEvery = 4, bool generatedData = false, double coordinatorTimeout = 5)
    {
        var job = await CreateAsync(hosts, maxRestarts, hangTimeout, ditSteps, checkpointEvery, privateDisks, vaeSteps, generatedData, coordinatorTimeout);
        job.StartCoordinator(nodes);
        for (var host = 1; host < hosts; host++)
        {
            job.StartAgent(host, workersPerHost);
        }

        return job;
    }

    /// <summary>Waits for the coordinator to exit with <paramref name="exitCode"/> within <paramref name="limit"/>; returns its output (also written to the test's log).</summary>
    public static async Task<string> EndsWithAsync(this NetnsJob job, int exitCode, TimeSpan limit, Xunit.Abstractions.ITestOutputHelper output)
    {
        var coordinator = job.Coordinator!;
        var code = await coordinator.WaitForExitAsync(limit);
        output.WriteLine(coordinator.Output);
        code.Should().Be(exitCode, "the coordinator's exit code is the job's result");
        return coordinator.Output;
    }
}
