using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Data;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench metrics</c>: the metrics pipeline's cost on a worker against the bench training step, measured in the same run.</summary>
internal static class BenchMetricsCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "CPU threads for the bench step.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var steps = new Option<int>("--steps") { Description = "Simulated steps per measurement.", DefaultValueFactory = _ => 20_000 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds of A (baseline) and B (pipeline on); medians are reported.", DefaultValueFactory = _ => 5 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("metrics", "The metrics pipeline's per-step cost on a worker (instruments, listener, a metrics line every step) over the bench step's time, both measured in this run. Goal: under 1%.")
        {
            threads, steps, rounds, json,
        };
        command.SetAction(parse =>
        {
            var status = new SynchronousProgress<string>(s => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(s)}[/]"));
            var step = new StepBenchmark
            {
                Config = Sora.Model.Dit.DiTConfig.Preset("bench"),
                Batch = 4,
                Latent = (8, 16, 16),
                Steps = 5,
                Threads = parse.GetValue(threads),
            };
            var result = MetricsOverheadBenchmark.Run(step, parse.GetValue(steps), parse.GetValue(rounds), status);
            AnsiConsole.MarkupLine($"bench step {result.StepSeconds * 1000:F1} ms; a step's instruments {result.BaselineMicroseconds:F2} µs without the pipeline, {result.PipelineMicroseconds:F2} µs with it " +
                $"(a metrics line every step; workers send one every 0.5 s): overhead [bold]{result.OverheadRatio:P4}[/] of a step. Goal: under 1%.");
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(new { result.StepSeconds, result.BaselineMicroseconds, result.PipelineMicroseconds, result.Steps, result.OverheadRatio }, s_json));
            }

            return 0;
        });
        return command;
    }
}
