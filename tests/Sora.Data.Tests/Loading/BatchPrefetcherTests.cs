using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class BatchPrefetcherTests
{
    [Fact]
    public void The_worker_runs_at_most_capacity_plus_one_batches_ahead_of_the_consumer()
    {
        var produced = 0;
        IEnumerable<int> Source(CancellationToken token)
        {
            for (var i = 0; i < 50; i++)
            {
                Interlocked.Increment(ref produced);
                yield return i;
            }
        }

        using var prefetcher = new BatchPrefetcher<int>(Source, capacity: 3);
        for (var taken = 0; taken < 10; taken++)
        {
            // Wait until the worker has filled the queue and holds one more; then it must be blocked there.
            WaitUntil(() => Volatile.Read(ref produced) >= taken + 3 + 1);
            Volatile.Read(ref produced).Should().Be(taken + 3 + 1);
            prefetcher.Buffered.Should().Be(3);
            prefetcher.Next().Should().Be(taken);
        }
    }

    [Fact]
    public void A_source_failure_reaches_the_consumer_after_the_good_batches_unchanged()
    {
        static IEnumerable<int> Source(CancellationToken token)
        {
            yield return 1;
            yield return 2;
            throw new InvalidDataException("row 17 of shard 'x' is corrupt");
        }

        using var prefetcher = new BatchPrefetcher<int>(Source, capacity: 4);
        prefetcher.Next().Should().Be(1);
        prefetcher.Next().Should().Be(2);
        var act = () => prefetcher.Next();
        act.Should().Throw<InvalidDataException>().WithMessage("row 17 of shard 'x' is corrupt");
        act.Should().Throw<InvalidDataException>("the failure stays visible");
    }

    [Fact]
    public void Dispose_stops_a_worker_blocked_on_a_full_queue_and_an_endless_source()
    {
        static IEnumerable<int> Endless(CancellationToken token)
        {
            for (var i = 0; ; i++)
            {
                yield return i;
            }
        }

        var prefetcher = new BatchPrefetcher<int>(Endless, capacity: 1);
        prefetcher.Next().Should().Be(0);
        prefetcher.Dispose();
        prefetcher.Worker.IsCompleted.Should().BeTrue();
        var act = () => prefetcher.Next();
        act.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void An_exhausted_source_says_so()
    {
        using var prefetcher = new BatchPrefetcher<int>(_ => [7], capacity: 1);
        prefetcher.Next().Should().Be(7);
        var act = () => prefetcher.Next();
        act.Should().Throw<InvalidOperationException>().WithMessage("*no more batches*");
    }

    internal static void WaitUntil(Func<bool> condition)
    {
        // A generous limit only so that a broken worker fails the test instead of hanging it.
        SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(30)).Should().BeTrue("the worker should get there");
    }
}
