using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Sora.Data.Loading;

/// <summary>
/// Runs a batch source on a background task, at most <see cref="Capacity"/> batches ahead of the consumer: a
/// bounded channel holds finished batches and the worker waits while it is full, so at most Capacity + 1 batches
/// (those queued and the one being read) exist beyond the one the consumer holds. An exception in the source ends
/// the worker and is rethrown, unchanged, by the consumer's next <see cref="Next"/>. Dispose stops the worker.
/// </summary>
/// <typeparam name="T">The batch type. Batches still queued at disposal are dropped, not disposed.</typeparam>
public sealed class BatchPrefetcher<T> : IDisposable
{
    // Read by the metrics pipeline: how many batches were ready each time the trainer asked for one.
    private static readonly System.Diagnostics.Metrics.Histogram<int> s_queueDepth =
        new System.Diagnostics.Metrics.Meter("Sora.Data").CreateHistogram<int>("sora.data.queue_depth", description: "Batches ready in the loader's queue when the trainer asked for the next");

    private readonly Channel<T> _channel;
    private readonly CancellationTokenSource _stop = new();
    private ExceptionDispatchInfo? _failure;
    private bool _disposed;

    /// <param name="source">Produces the batches in order; it should observe the token between batches.</param>
    /// <param name="capacity">Batches that may wait in the queue (>= 1).</param>
    public BatchPrefetcher(Func<CancellationToken, IEnumerable<T>> source, int capacity)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"data.prefetch_batches must be >= 1 (got {capacity})");
        }

        Capacity = capacity;
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var token = _stop.Token;
        Worker = Task.Run(() => Produce(source, token), CancellationToken.None);
    }

    public int Capacity { get; }

    /// <summary>Batches finished and waiting for the consumer.</summary>
    public int Buffered => _channel.Reader.Count;

    /// <summary>The background worker; it completes when the source ends, fails, or the prefetcher is disposed.</summary>
    internal Task Worker { get; }

    /// <summary>The next batch, waiting for the worker if none is ready.</summary>
    /// <exception cref="InvalidOperationException">The source has no more batches.</exception>
    public T Next() => NextAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Next"/>
    public async ValueTask<T> NextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        s_queueDepth.Record(_channel.Reader.Count);
        if (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _channel.Reader.TryRead(out var batch))
        {
            return batch;
        }

        _failure?.Throw();
        throw new InvalidOperationException("the data source has no more batches");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        Worker.GetAwaiter().GetResult();
        _stop.Dispose();
    }

    private async Task Produce(Func<CancellationToken, IEnumerable<T>> source, CancellationToken token)
    {
        try
        {
            foreach (var batch in source(token))
            {
                await _channel.Writer.WriteAsync(batch, token).ConfigureAwait(false);
                token.ThrowIfCancellationRequested();
            }

            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
#pragma warning disable CA1031 // Any failure of the source belongs to the consumer, who sees it on its next read.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failure = ExceptionDispatchInfo.Capture(e);
            _channel.Writer.TryComplete();
        }
    }
}
