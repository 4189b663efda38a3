using Azure.Core;
using Azure.Core.Pipeline;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>A per-retry pipeline policy that records every attempt a store sends and how many overlapped.</summary>
public sealed class RequestRecorder : HttpPipelinePolicy
{
    private readonly List<(string Method, Uri Uri, string? Range)> _attempts = [];
    private int _inFlight;
    private int _maxInFlight;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public IReadOnlyList<(string Method, Uri Uri, string? Range)> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }
    }

    public int Count(string method, string queryContains) =>
        Attempts.Count(a => a.Method == method && a.Uri.Query.Contains(queryContains, StringComparison.Ordinal));

    public void Clear()
    {
        lock (_attempts)
        {
            _attempts.Clear();
        }

        Volatile.Write(ref _maxInFlight, 0);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Enter(message);
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Enter(message);
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Enter(HttpMessage message)
    {
        var range = message.Request.Headers.TryGetValue("x-ms-range", out var r) ? r : null;
        lock (_attempts)
        {
            _attempts.Add((message.Request.Method.Method, message.Request.Uri.ToUri(), range));
        }

        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
    }
}
