using System.CommandLine;
using Sora.Cli.Console;
using Sora.Distributed.Configuration;
using Sora.Distributed.Pipelines;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora train job.yaml</c>: trains the VAE and the DiT on one process and writes a run directory.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var job = new Argument<FileInfo>("job") { Description = "The YAML job file (configs/tiny.yaml is the CPU demo)." };
        var output = new Option<string?>("--output") { Description = "Run directory (default: the job's output)." };
        var command = new Command("train", "Train the model of a job file on this machine and write weights, samples and loss curves.") { job, output };
        command.SetAction(parse =>
        {
            var config = JobConfig.Load(parse.GetRequiredValue(job).FullName);
            if (parse.GetValue(output) is { } directory)
            {
                config = config with { Output = directory };
            }

            RuntimeCheck.WarnIfSlowBlas();
            var result = new TrainingDisplay().Run((status, progress) => new TrainingJob(config, status, progress).Run());
            AnsiConsole.MarkupLine($"[green]done[/] in {result.Elapsed:hh\\:mm\\:ss}: run [blue]{Markup.Escape(result.RunDirectory)}[/]");
            AnsiConsole.MarkupLine($"  loss curve  {Markup.Escape(result.LossCurve)}");
            foreach (var sample in result.Samples.TakeLast(config.Sampling.Prompts.Count))
            {
                AnsiConsole.MarkupLine($"  sample      {Markup.Escape(sample)} (and .gif, .png)");
            }

            if (result.DiTHeldOutLoss.Count > 0)
            {
                AnsiConsole.MarkupLine($"  held-out rectified-flow loss {result.DiTHeldOutLoss[0]:F4} → {result.DiTHeldOutLoss[^1]:F4}");
            }

            return 0;
        });
        return command;
    }
}
