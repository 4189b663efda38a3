using System.CommandLine;
using Sora.Cli.Console;
using Sora.Data.Synthetic;
using Sora.Distributed.Pipelines;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora eval</c>: colour and direction accuracy of a run's EMA model on 24 prompts.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var run = new Option<DirectoryInfo>("--run") { Description = "A finished training run directory.", Required = true };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1 };
        var command = new Command("eval", "Generate 24 prompts covering every colour and direction with the EMA weights and measure colour and motion.") { run, seed };
        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            var directory = new RunDirectory(parse.GetRequiredValue(run).FullName);
            var report = Evaluate(directory, parse.GetValue(seed), new Progress<string>(m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]")));
            var table = new Table().Border(TableBorder.Rounded).AddColumns("prompt", "colour", "direction");
            foreach (var p in report.Prompts)
            {
                table.AddRow(Markup.Escape(p.Caption), Mark(p.ColorCorrect, p.MeasuredColor), Mark(p.DirectionCorrect, p.MeasuredDirection));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"colour accuracy    [bold]{report.ColorAccuracy:P0}[/] (goal ≥ 90%)");
            AnsiConsole.MarkupLine($"direction accuracy [bold]{report.DirectionAccuracy:P0}[/] (goal ≥ 75%)");
            AnsiConsole.MarkupLine($"details in [blue]{Markup.Escape(directory.EvaluationFile)}[/]");
            return 0;
        });
        return command;
    }

    internal static EvaluationReport Evaluate(RunDirectory directory, ulong seed, IProgress<string>? progress = null)
    {
        var job = directory.LoadJob();
        Sora.Torch.TorchRuntime.SetThreads(job.Threads > 0 ? job.Threads : Environment.ProcessorCount);
        var generator = directory.LoadGenerator();
        var options = VideoSet.SyntheticOptions(job.Data);
        var prompts = new MovingShapesGenerator(options, job.Seed).EvalPrompts();
        var size = job.Data.Sizes[0];
        var frames = job.Data.Lengths.Where(l => l > 1).DefaultIfEmpty(8).Max();
        var report = Evaluation.Run(generator, prompts, options.ForegroundPalette, frames, size.Height, size.Width, seed,
            Path.Combine(directory.Path, "eval"), job.Sampling.Upscale, progress);
        RunDirectory.WriteJson(directory.EvaluationFile, new { report.ColorAccuracy, report.DirectionAccuracy, report.Prompts });
        return report;
    }

    private static string Mark(bool correct, string measured) => correct ? $"[green]{Markup.Escape(measured)}[/]" : $"[red]{Markup.Escape(measured)}[/]";
}
