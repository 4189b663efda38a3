using System.Collections.Concurrent;
using System.Diagnostics;
using Sora.Cluster.Agent;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Tests.Agent;

/// <summary>Worker processes without a coordinator (<c>sora bench parallel</c>), each under a <see cref="WorkerProcess"/>: real <c>sh</c> processes.</summary>
[Trait("Category", "MultiProcess")]
public sealed class LocalWorkerGroupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-group-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Every_rank_exiting_zero_ends_the_group_with_no_failure_and_their_messages_reach_the_observer()
    {
        var seen = new ConcurrentQueue<(int Rank, string? Status)>();
        var failed = await LocalWorkerGroup.RunAsync(
            [Shell("echo '@sora {\"status\":\"rank 0 here\"}'; echo plain"), Shell("echo '@sora {\"status\":\"rank 1 here\"}'")],
            (rank, message) => seen.Enqueue((rank, message.Status))).WaitAsync(TimeSpan.FromMinutes(1));

        failed.Should().BeNull();
        seen.Should().BeEquivalentTo([(0, "rank 0 here"), (1, "rank 1 here")]);
        File.ReadAllLines(Path.Combine(_directory, "rank-0.log")).Should().Equal("rank 0 here", "plain");
    }

    [Fact]
    public async Task The_first_rank_to_fail_stops_the_others_and_is_the_groups_result()
    {
        var pidFile = Path.Combine(_directory, "sleeper.pid");
        var failed = await LocalWorkerGroup.RunAsync(
            [Shell($"echo $$ > {pidFile}; exec sleep 600"), Shell($"while [ ! -s {pidFile} ]; do sleep 0.1; done; echo 'out of memory' >&2; exit 3")],
            null).WaitAsync(TimeSpan.FromMinutes(1));

        failed.Should().NotBeNull();
        failed!.Rank.Should().Be(1);
        failed.How.Should().Be("exit code 3");
        failed.LogTail.Should().Contain("out of memory");
        var sleeper = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Directory.Exists($"/proc/{sleeper}").Should().BeFalse("the surviving rank is stopped, not left waiting on the failed one");
    }

    private LocalWorker Shell(string script)
    {
        var rank = Directory.GetFiles(_directory, "*.sh").Length;
        var file = Path.Combine(_directory, $"rank-{rank}.sh");
        File.WriteAllText(file, script);
        var start = new ProcessStartInfo("sh");
        start.ArgumentList.Add(file);
        WorkerCommandLine.SetEnvironment(start, rank, rank, 2, 0, 1);
        return new LocalWorker(start, Path.Combine(_directory, $"rank-{rank}.log"));
    }
}
