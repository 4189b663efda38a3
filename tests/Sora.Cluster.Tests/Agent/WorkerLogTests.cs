using Sora.Cluster.Agent;

namespace Sora.Cluster.Tests.Agent;

/// <summary>A worker's log, written off the actor: every line, in order, appended to what was there; a path that cannot be written fails at open.</summary>
public sealed class WorkerLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-worker-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Every_line_is_appended_in_order_and_the_file_closes_once_completed()
    {
        var path = Path.Combine(_directory, "logs", "n1", "round-2", "rank-0.log");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "an earlier round\n");
        var log = WorkerLog.Open(path);
        for (var i = 0; i < 1000; i++)
        {
            log.Write($"line {i}");
        }

        log.Complete();
        await log.Written.WaitAsync(TimeSpan.FromSeconds(30));
        (await File.ReadAllLinesAsync(path)).Should().Equal(["an earlier round", .. Enumerable.Range(0, 1000).Select(i => $"line {i}")]);
    }

    [Fact]
    public void A_log_that_cannot_be_created_fails_before_the_worker_starts() =>
        FluentActions.Invoking(() => WorkerLog.Open("/proc/sora-cannot-write-here/rank-0.log")).Should().Throw<IOException>();
}
