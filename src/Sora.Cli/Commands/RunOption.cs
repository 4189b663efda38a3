using System.CommandLine;
using Sora.Data.Storage;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Store;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary>
/// <c>--run</c> and <c>--run-credential</c> of the commands that read a trained run (sample, eval, data encode): a run
/// directory, or a job's store (a directory, or <c>az://CONTAINER/PREFIX</c>) whose <c>run/</c> is read through a local cache.
/// </summary>
internal sealed class RunOption
{
    public RunOption(string description)
    {
        Location = new Option<string>("--run") { Description = description + " A run directory, or a job's store (a directory or az://CONTAINER/PREFIX: its run/ is fetched into a local cache).", Required = true };
        Credential = StorageOptions.Credential("--run-credential", "--run");
    }

    public Option<string> Location { get; }

    public Option<AzureCredentialKind> Credential { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Location);
        command.Options.Add(Credential);
    }

    /// <summary>The run's directory on this machine.</summary>
    public RunDirectory Open(ParseResult parse) =>
        RunLocation.Open(parse.GetRequiredValue(Location), parse.GetValue(Credential), new Progress<string>(m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]")));
}
