using System.CommandLine;
using Sora.Cli.Commands;
using Sora.Cli.Launch;
using Sora.Cluster.Workers;
using Sora.Data.Parquet;
using Sora.Data.Video;
using Sora.Distributed.Configuration;
using Sora.Distributed.Training;
using Sora.Torch;
using Spectre.Console;

namespace Sora.Cli;

/// <summary>The root of the <c>sora</c> command line: one subcommand per verb.</summary>
internal static class SoraCommand
{
    /// <summary>
    /// Parses and runs; the errors a user can fix are printed as one clear message with exit code 1, not a stack trace. A
    /// worker started by an agent first binds itself to the agent's life, and exits with 78 (EX_CONFIG) on an error no
    /// restart would fix (<see cref="WorkerLifetime"/>).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WorkerLifetime.DieWithParent(ImmediateExit.Exit, System.Console.Error);
        try
        {
            return await Create().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ConfigException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                                      or TorchException or FfmpegException or TrainingDivergedException or ArgumentException
                                      or ParquetFormatException or IOException or UnauthorizedAccessException or KeyNotFoundException or Sora.Torch.Distributed.CollectiveException)
        {
            AnsiConsole.Console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return WorkerLifetime.ExitCodeFor(e, System.Console.Out);
        }
    }

    public static RootCommand Create()
    {
        var root = new RootCommand("Sora.Distributed: train Sora-style video diffusion transformers on one machine or many.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(LaunchCommand.Create());
        root.Subcommands.Add(LaunchCommand.CreateCoordinator());
        root.Subcommands.Add(LaunchCommand.CreateAgent());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(StatusCommand.CreateStop());
        root.Subcommands.Add(StatusCommand.CreateDashboard());
        root.Subcommands.Add(SampleCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(CheckpointsCommand.Create());
        return root;
    }
}
