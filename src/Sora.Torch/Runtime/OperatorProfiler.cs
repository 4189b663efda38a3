using System.Text.Json;
using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>
/// Records every libtorch operator run between <see cref="Start"/> and <see cref="Dispose"/> (forward and
/// backward, every thread) and writes a Chrome trace to the path given; open it in chrome://tracing or Perfetto,
/// or summarise it with <see cref="Summarize"/>. One profiler records at a time, process-wide.
/// </summary>
public sealed class OperatorProfiler : IDisposable
{
    private bool _stopped;

    private OperatorProfiler(string path) => TracePath = path;

    /// <summary>The Chrome trace written when the profiler is disposed.</summary>
    public string TracePath { get; }

    public static OperatorProfiler Start(string tracePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tracePath);
        var full = Path.GetFullPath(tracePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        NativeError.Check(NativeMethods.sora_profiler_start(full));
        return new OperatorProfiler(full);
    }

    /// <summary>Stops recording and writes the trace.</summary>
    public void Dispose()
    {
        if (!_stopped)
        {
            _stopped = true;
            NativeError.Check(NativeMethods.sora_profiler_stop());
        }
    }

    /// <summary>
    /// Self time per operator name (an operator's time minus the operators it called), largest first, from a trace
    /// this profiler wrote.
    /// </summary>
    public static IReadOnlyList<OperatorTime> Summarize(string tracePath)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(tracePath));
        var events = document.RootElement.ValueKind == JsonValueKind.Array
            ? document.RootElement
            : document.RootElement.GetProperty("traceEvents");
        var spans = new List<(string Name, long Thread, double Start, double End)>();
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("ph", out var ph) && ph.GetString() == "X" && e.TryGetProperty("dur", out var dur))
            {
                var start = e.GetProperty("ts").GetDouble();
                var thread = e.TryGetProperty("tid", out var tid) && tid.ValueKind == JsonValueKind.Number ? tid.GetInt64() : 0;
                spans.Add((e.GetProperty("name").GetString() ?? "?", thread, start, start + dur.GetDouble()));
            }
        }

        var self = new Dictionary<string, (double Micros, int Calls)>();
        foreach (var thread in spans.GroupBy(s => s.Thread))
        {
            // Parents start first and end last: walk in start order with a stack of open spans.
            var stack = new Stack<(string Name, double End, double Children, double Duration)>();
            foreach (var span in thread.OrderBy(s => s.Start).ThenByDescending(s => s.End))
            {
                while (stack.Count > 0 && stack.Peek().End <= span.Start)
                {
                    Close(stack, self);
                }

                stack.Push((span.Name, span.End, 0, span.End - span.Start));
            }

            while (stack.Count > 0)
            {
                Close(stack, self);
            }
        }

        var total = self.Values.Sum(v => v.Micros);
        return self.Select(kv => new OperatorTime(kv.Key, kv.Value.Calls, kv.Value.Micros / 1e6, total > 0 ? kv.Value.Micros / total : 0))
            .OrderByDescending(o => o.SelfSeconds)
            .ToArray();
    }

    private static void Close(Stack<(string Name, double End, double Children, double Duration)> stack, Dictionary<string, (double Micros, int Calls)> self)
    {
        var closed = stack.Pop();
        var own = Math.Max(0, closed.Duration - closed.Children);
        self[closed.Name] = self.TryGetValue(closed.Name, out var sum) ? (sum.Micros + own, sum.Calls + 1) : (own, 1);
        if (stack.Count > 0)
        {
            var parent = stack.Pop();
            stack.Push(parent with { Children = parent.Children + closed.Duration });
        }
    }
}

/// <summary>One operator's share of a profile: calls, self time in seconds, and its fraction of all self time.</summary>
public sealed record OperatorTime(string Name, int Calls, double SelfSeconds, double Fraction);
