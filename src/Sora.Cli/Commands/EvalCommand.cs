using System.CommandLine;
using Sora.Cli.Console;
using Sora.Data.Synthetic;
using Sora.Distributed.Pipelines;
using Sora.Model.Sampling;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary>
/// <c>sora eval</c>: background, colour, direction, one-object and shape accuracy of a run's EMA model on a fixed set
/// of prompts, and with <c>--real N</c> the same measurements on N dataset clips, to show they can be trusted.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var run = new RunOption("A finished training run.");
        var seed = new Option<ulong>("--seed") { Description = "The starting noise's seed.", DefaultValueFactory = _ => 1 };
        var prompts = new Option<int>("--prompts")
        {
            Description = "How many prompts: each shape, colour, background and direction appears equally often (72 divides evenly by the default 3, 6, 4 and 4).",
            DefaultValueFactory = _ => MovingShapesGenerator.DefaultEvalPrompts,
        };
        var real = new Option<int>("--real")
        {
            Description = "Also measure this many of the run's dataset clips (regenerated from the job's seed), as drawn and after the run's VAE, where the truth is known.",
        };
        var renoise = new Option<double[]>("--renoise")
        {
            Description = "With --real: also noise each clip to these times in (0, 1] and let the DiT denoise it under its own caption, e.g. --renoise 0.25 0.5 0.75, to see at which noise level the model loses a property.",
            AllowMultipleArgumentsPerToken = true,
        };
        renoise.Validators.Add(result =>
        {
            foreach (var time in result.GetValueOrDefault<double[]>() ?? [])
            {
                if (!(time is > 0 and <= 1))
                {
                    result.AddError($"--renoise: {time} is not a time in (0, 1]");
                }
            }
        });
        var sampling = new SamplingOverrides();
        var device = DeviceOption.Create();
        OptionRules.RequireAtLeast(1, prompts);
        OptionRules.RequireAtLeast(0, real);
        var command = new Command("eval", "Generate prompts covering every shape, colour, background and direction with the EMA weights and measure background, colour, motion, one object and shape.")
        {
            seed, prompts, real, renoise, device,
        };
        run.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(renoise) is { Length: > 0 } && result.GetValue(real) < 1)
            {
                result.AddError("--renoise measures dataset clips: give --real N as well");
            }
        });
        foreach (var option in sampling.Options)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            var directory = run.Open(parse);
            var progress = new Progress<string>(m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]"));
            var job = directory.LoadJob();
            var (report, dataset) = Evaluate(directory, parse.GetValue(seed), parse.GetValue(prompts), parse.GetValue(real), progress,
                sampling.Apply(parse, job), parse.GetValue(renoise), DeviceOption.Place(parse, device, job).Device);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("prompt", "background", "colour", "direction", "objects (frames with one)", "shape", "clean background");
            foreach (var p in report.Prompts)
            {
                table.AddRow(
                    Markup.Escape(p.Caption),
                    Mark(p.BackgroundCorrect, p.MeasuredBackground),
                    Mark(p.ColorCorrect, p.MeasuredColor),
                    Mark(p.DirectionCorrect, p.MeasuredDirection),
                    Mark(p.OneObject, $"{p.Objects} ({p.SingleObjectShare:P0})"),
                    Mark(p.ShapeCorrect, p.MeasuredShape),
                    Mark(p.CleanBackground >= Evaluation.Goals.CleanBackground, $"{p.CleanBackground:P0}"));
            }

            AnsiConsole.Write(table);
            var goals = Evaluation.Goals.Named().ToDictionary(g => g.Name, g => g.Value);
            foreach (var (name, value) in report.Accuracy.Named())
            {
                var reached = value >= goals[name];
                AnsiConsole.MarkupLine($"{name + " accuracy",-26} [bold]{value:P0}[/] (goal ≥ {goals[name]:P0}: {(reached ? "[green]reached[/]" : "[red]not yet[/]")})");
            }

            if (dataset is not null)
            {
                AnsiConsole.MarkupLine($"the measurements on {dataset.Clips} dataset clips, where the truth is known:");
                var trust = new Table().Border(TableBorder.Rounded).AddColumns(
                    ["measurement", "as drawn", "after the VAE", .. dataset.Renoised.Select(r => $"redrawn from t = {r.Strength:0.##}")]);
                var columns = new[] { dataset.AsDrawn, dataset.AfterVae }.Concat(dataset.Renoised.Select(r => r.Accuracy)).Select(a => a.Named().ToArray()).ToArray();
                for (var row = 0; row < columns[0].Length; row++)
                {
                    trust.AddRow([columns[0][row].Name, .. columns.Select(c => $"{c[row].Value:P0}")]);
                }

                AnsiConsole.Write(trust);
            }

            AnsiConsole.MarkupLine($"details in [blue]{Markup.Escape(directory.EvaluationFile)}[/]");
            return 0;
        });
        return command;
    }

    internal static (EvaluationReport Report, DatasetAccuracy? Dataset) Evaluate(RunDirectory directory, ulong seed, int promptCount = MovingShapesGenerator.DefaultEvalPrompts,
        int realClips = 0, IProgress<string>? progress = null, SamplingOptions? sampling = null, IReadOnlyList<double>? renoise = null, Sora.Torch.Device? device = null)
    {
        var job = directory.LoadJob();
        Sora.Torch.TorchRuntime.SetThreads(job.Threads > 0 ? job.Threads : Environment.ProcessorCount);
        sampling ??= job.Sampling.Options;
        var generator = directory.LoadGenerator(sampling: sampling, device: device);
        var options = VideoSet.SyntheticOptions(job.Data);
        var prompts = new MovingShapesGenerator(options, job.Seed).EvalPrompts(promptCount);
        var size = job.Data.Sizes[0];
        var frames = job.Data.Lengths.Where(l => l > 1).DefaultIfEmpty(8).Max();
        var report = Evaluation.Run(generator, prompts, options, frames, size.Height, size.Width, seed,
            Path.Combine(directory.Path, "eval"), job.Sampling.Upscale, progress);
        var dataset = realClips > 0 ? Evaluation.MeasureDataset(generator, options, job.Seed, realClips, progress, renoise, seed) : null;
        var accuracy = report.Accuracy;
        RunDirectory.WriteJson(directory.EvaluationFile, new
        {
            BackgroundAccuracy = accuracy.Background,
            ColorAccuracy = accuracy.Color,
            DirectionAccuracy = accuracy.Direction,
            OneObjectAccuracy = accuracy.OneObject,
            ShapeAccuracy = accuracy.Shape,
            CleanBackground = accuracy.CleanBackground,
            Sampling = new { sampling.Steps, sampling.GuidanceScale },
            Evaluation.Goals,
            Dataset = dataset,
            report.Prompts,
        });
        return (report, dataset);
    }

    private static string Mark(bool correct, string measured) => correct ? $"[green]{Markup.Escape(measured)}[/]" : $"[red]{Markup.Escape(measured)}[/]";
}
