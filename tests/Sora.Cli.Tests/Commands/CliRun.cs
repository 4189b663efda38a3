using Spectre.Console;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// Runs a <c>sora</c> command in-process with the console captured as plain text, 200 columns wide: Spectre's output
/// and System.Console's (where the command-line parser writes its errors).
/// </summary>
internal static class CliRun
{
    /// <summary>Through the parser's synchronous invoke.</summary>
    public static (int Exit, string Output) Run(params string[] args) => Capture(() => SoraCommand.Create().Parse(args).Invoke());

    /// <summary>Through <see cref="SoraCommand.RunAsync"/>, which also turns exceptions into "error:" lines and exit codes.</summary>
    public static (int Exit, string Output) RunAsync(params string[] args) => Capture(() => SoraCommand.RunAsync(args).GetAwaiter().GetResult());

    /// <summary>The output's lines joined by spaces (Spectre wraps long messages).</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static (int Exit, string Output) Capture(Func<int> run)
    {
        var previous = AnsiConsole.Console;
        var (previousOut, previousError) = (System.Console.Out, System.Console.Error);
        var writer = new StringWriter();
        System.Console.SetOut(writer);
        System.Console.SetError(writer);
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        AnsiConsole.Console.Profile.Width = 200;
        try
        {
            return (run(), writer.ToString());
        }
        finally
        {
            AnsiConsole.Console = previous;
            System.Console.SetOut(previousOut);
            System.Console.SetError(previousError);
        }
    }
}
