using Sora.Torch;
using Spectre.Console;

namespace Sora.Cli.Console;

/// <summary>Checks run when a command that computes starts: loud warnings for setups that silently run slowly.</summary>
internal static class RuntimeCheck
{
    /// <summary>Warns on stderr when libtorch's BLAS is not OpenBLAS. Returns the report.</summary>
    public static BlasReport WarnIfSlowBlas(IAnsiConsole? errorConsole = null)
    {
        var blas = TorchRuntime.Blas;
        if (blas.Warning is { } warning)
        {
            var console = errorConsole ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
            console.Write(new Panel(new Text(warning, new Style(Color.Red, decoration: Decoration.Bold)))
                .Header("[red bold]WARNING: slow BLAS[/]").BorderColor(Color.Red));
        }

        return blas;
    }
}
