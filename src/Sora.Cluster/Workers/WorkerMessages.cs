using System.Text.Json;
using Sora.Data;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Training;
using Sora.Metrics.Pipeline;

namespace Sora.Cluster.Workers;

/// <summary>
/// The local channel between a worker and the process that started it (an agent, or <c>sora train --nproc-per-node</c>).
/// What a worker tells its launcher, one line each on stdout: <c>@sora {json}</c>. Lines without the
/// prefix are ordinary output (kept in the rank's log). The other way, an agent controls a worker started with
/// <c>--agent</c> through its stdin: <c>@sora-control {json}</c> lines (<see cref="WorkerControl"/>).
/// </summary>
public static class WorkerMessages
{
    public const string Prefix = "@sora ";

    public const string ControlPrefix = "@sora-control ";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Progress sinks that write messages to <paramref name="output"/> (a worker's stdout).</summary>
    public static (IProgress<string> Status, IProgress<TrainingProgress> Training, IProgress<WorkerMessage> Message) Writers(TextWriter output)
    {
        var gate = new object();
        void Write(WorkerMessage message)
        {
            var line = Line(message);
            lock (gate)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        return (new SynchronousProgress<string>(s => Write(new WorkerMessage { Status = s })), new SynchronousProgress<TrainingProgress>(p => Write(new WorkerMessage { Progress = p })),
            new SynchronousProgress<WorkerMessage>(Write));
    }

    /// <summary>The line that tells the launcher <paramref name="message"/>.</summary>
    public static string Line(WorkerMessage message) => Prefix + JsonSerializer.Serialize(message, s_json);

    /// <summary>The line that sends <paramref name="control"/> to a worker's stdin.</summary>
    public static string Format(WorkerControl control) => ControlPrefix + JsonSerializer.Serialize(control, s_json);

    /// <summary>The control message on a line read from stdin; throws <see cref="FormatException"/> naming the line when it is not one.</summary>
    public static WorkerControl ParseControl(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!line.StartsWith(ControlPrefix, StringComparison.Ordinal))
        {
            throw new FormatException($"not a control line (expected '{ControlPrefix.TrimEnd()} {{json}}'): '{line}'");
        }

        try
        {
            return JsonSerializer.Deserialize<WorkerControl>(line.AsSpan(ControlPrefix.Length), s_json)
                ?? throw new FormatException($"empty control message: '{line}'");
        }
        catch (JsonException e)
        {
            throw new FormatException($"control line is not valid JSON ({e.Message}): '{line}'", e);
        }
    }

    /// <summary>The message on a line, or null for ordinary output.</summary>
    public static WorkerMessage? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<WorkerMessage>(line.AsSpan(Prefix.Length), s_json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>One worker message: a status line, a training progress snapshot, the rank's metrics, a sample video written, how a stopped job ended, or the error it fails with.</summary>
public sealed record WorkerMessage
{
    public string? Status { get; init; }

    /// <summary>The error the worker is about to exit with (its exit code says whether it would fail the same way again).</summary>
    public string? Error { get; init; }

    public TrainingProgress? Progress { get; init; }

    public RankMetrics? Metrics { get; init; }

    public SampleFile? Sample { get; init; }

    public WorkerStopped? Stopped { get; init; }
}

/// <summary>
/// A worker's job stopped on request: after <paramref name="Step"/> of <paramref name="Stage"/> ("vae" or "dit");
/// <paramref name="Committed"/> says whether that step's checkpoint was committed (null where this rank cannot know: only rank 0 commits, and the VAE stage has none).
/// </summary>
public sealed record WorkerStopped(string Stage, long Step, bool? Committed, string? Reason);

/// <summary>
/// What an agent tells a worker on its stdin (<c>@sora-control {"stop":"reason"}</c>): <see cref="Stop"/> asks for a
/// graceful stop (checkpoint, then exit 0). End of stdin means the agent is gone: the worker exits at once, non-zero.
/// </summary>
public sealed record WorkerControl
{
    /// <summary>Stop after the current step, for this reason.</summary>
    public string? Stop { get; init; }
}
