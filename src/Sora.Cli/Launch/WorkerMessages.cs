using System.Text.Json;
using Sora.Data;
using Sora.Distributed.Training;

namespace Sora.Cli.Launch;

/// <summary>
/// What a worker tells its launcher, one line each on stdout: <c>@sora {json}</c>. Lines without the
/// prefix are ordinary output (kept in the rank's log).
/// </summary>
internal static class WorkerMessages
{
    public const string Prefix = "@sora ";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Progress sinks that write messages to <paramref name="output"/> (a worker's stdout).</summary>
    public static (IProgress<string> Status, IProgress<TrainingProgress> Training) Writers(TextWriter output)
    {
        var gate = new object();
        void Write(WorkerMessage message)
        {
            var line = Prefix + JsonSerializer.Serialize(message, s_json);
            lock (gate)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        return (new SynchronousProgress<string>(s => Write(new WorkerMessage { Status = s })), new SynchronousProgress<TrainingProgress>(p => Write(new WorkerMessage { Progress = p })));
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

/// <summary>One worker message: a status line or a training progress snapshot.</summary>
internal sealed record WorkerMessage
{
    public string? Status { get; init; }

    public TrainingProgress? Progress { get; init; }
}
