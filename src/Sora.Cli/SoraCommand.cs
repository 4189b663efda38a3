using System.CommandLine;
using Sora.Cli.Commands;

namespace Sora.Cli;

/// <summary>The root of the <c>sora</c> command line: one subcommand per verb.</summary>
internal static class SoraCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Sora.Distributed: train Sora-style video diffusion transformers on one machine or many.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
