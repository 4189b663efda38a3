using Sora.Distributed.Training;
using Sora.Cluster.Workers;

namespace Sora.Cli.Launch;

/// <summary>
/// A worker's stdin as its agent's control channel (<c>sora train --agent</c>): a background thread reads
/// <c>@sora-control</c> lines and turns a stop into <see cref="TrainingControl.RequestStop"/>. End of stdin means the
/// agent is gone (killed, or its node lost): the worker says so on stderr and exits at once with
/// <see cref="AgentGoneExitCode"/>, so that no worker ever trains on without an agent watching it.
/// </summary>
internal static class AgentControlChannel
{
    /// <summary>The exit code of a worker whose agent went away.</summary>
    public const int AgentGoneExitCode = 3;

    /// <summary>Starts reading <paramref name="input"/>; <paramref name="exit"/> ends the process when it closes.</summary>
    public static Thread Listen(TextReader input, TrainingControl control, TextWriter error, int rank, Action<int> exit)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(exit);
        var thread = new Thread(() =>
        {
            while (input.ReadLine() is { } line)
            {
                if (line.Length > 0)
                {
                    Handle(line, control, error, rank);
                }
            }

            error.WriteLine($"rank {rank}: stdin closed, so the agent that started this worker is gone: exiting now (code {AgentGoneExitCode}) without a final checkpoint");
            error.Flush();
            exit(AgentGoneExitCode);
        })
        { IsBackground = true, Name = $"agent control (rank {rank})" };
        thread.Start();
        return thread;
    }

    private static void Handle(string line, TrainingControl control, TextWriter error, int rank)
    {
        WorkerControl message;
        try
        {
            message = WorkerMessages.ParseControl(line);
        }
        catch (FormatException e)
        {
            error.WriteLine($"rank {rank}: ignoring a line on stdin: {e.Message}");
            return;
        }

        if (message.Stop is not { } reason)
        {
            error.WriteLine($"rank {rank}: ignoring a control message with nothing to do: '{line}'");
            return;
        }

        control.RequestStop(string.IsNullOrWhiteSpace(reason) ? "stop requested by the agent" : reason);
    }
}
