using Sora.Torch.Distributed;

namespace Sora.Torch.Tests.Distributed;

/// <summary>
/// Runs a Gloo process group of several ranks inside the test process, one thread per rank, each
/// with its own store client (as separate processes would have). Every rank's exception is kept.
/// </summary>
internal static class LocalRanks
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="body"/> on every rank; returns each rank's exception (null when it succeeded).</summary>
    public static Exception?[] TryRun(int worldSize, Action<ProcessGroup> body, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var server = TcpStore.CreateServer("127.0.0.1", 0, limit);
        var prefix = Guid.NewGuid().ToString("N");
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using var client = TcpStore.Connect("127.0.0.1", server.Port, limit);
                using var store = client.WithPrefix(prefix);
                using var group = ProcessGroup.Create(ProcessGroupBackend.Gloo, store, rank, worldSize, limit);
                body(group);
            }
            catch (Exception error)
            {
                errors[rank] = error;
            }
        })
        { IsBackground = true, Name = $"rank {rank}" }).ToList();
        threads.ForEach(t => t.Start());
        foreach (var thread in threads)
        {
            // A hang is a failure of its own: never wait forever in a test.
            thread.Join(limit * 3).Should().BeTrue($"{thread.Name} must finish within three timeouts");
        }

        return errors;
    }

    /// <summary>Runs <paramref name="body"/> on every rank and fails with the first rank's error.</summary>
    public static void Run(int worldSize, Action<ProcessGroup> body)
    {
        var errors = TryRun(worldSize, body);
        var failed = errors.Select((e, rank) => (e, rank)).Where(x => x.e is not null).ToList();
        failed.Should().BeEmpty(string.Join("\n", failed.Select(x => $"rank {x.rank}: {x.e}")));
    }
}
