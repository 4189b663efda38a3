using System.Globalization;
using System.Text.RegularExpressions;
using Sora.Cli.Launch;
using Sora.Netns;
using Sora.Tools;

namespace Sora.Cli.Bench;

/// <summary>
/// The job the cluster benchmarks (<c>sora bench recovery</c>, <c>sora bench goodput</c>) run on private-disk namespace hosts
/// with Azurite on host 0 as the only shared storage (<see cref="NetnsJob"/>): a tiny video VAE and DiT on a generated
/// Parquet dataset (written into the store), checkpointing into the store. The coordinator's event lines carry
/// millisecond stamps, which the benchmarks measure with.
/// </summary>
internal static partial class BenchClusterJob
{
    /// <summary>A cluster of <paramref name="hosts"/> hosts running nothing yet, and the job file on host 0.</summary>
    public static Task<NetnsJob> CreateAsync(int hosts, string name, int ditSteps, int checkpointEvery, double hangTimeout, int maxRestarts, int minNodes, int maxNodes) =>
        NetnsJob.CreateAsync(hosts, privateDisks: true, arguments => (ClusterJob.Self()[0], [.. ClusterJob.Self().Skip(1), .. arguments]), (file, store, output) =>
            File.WriteAllText(file, TinyJob.Yaml(ditSteps, vaeSteps: 12, dataset: "data/bench-shapes", name: name, seed: 1, extraYaml: string.Create(CultureInfo.InvariantCulture, $"""
                output: {output}
                checkpoint:
                  store: {store}
                  every: {checkpointEvery}
                  keep_last: 2
                fault:
                  max_restarts: {maxRestarts}
                  hang_timeout: {hangTimeout}
                  coordinator_timeout: 5
                  rendezvous_wait: 2
                  min_nodes: {minNodes}
                  max_nodes: {maxNodes}
                """))));

    /// <summary>The local time of an event line's <c>[HH:mm:ss.fff]</c> stamp (today's).</summary>
    public static DateTime StampOf(string line)
    {
        var match = Stamp().Match(line);
        return match.Success
            ? DateTime.Today + TimeSpan.ParseExact(match.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture)
            : throw new FormatException($"no [HH:mm:ss.fff] stamp in '{line}'");
    }

    [GeneratedRegex(@"\[(\d\d:\d\d:\d\d\.\d\d\d)\]")]
    private static partial Regex Stamp();
}
