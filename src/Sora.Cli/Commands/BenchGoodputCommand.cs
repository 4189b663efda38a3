using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Data;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench goodput</c>: the effective training time ratio under faults at fixed mean intervals, and where the rest of the time went.</summary>
internal static class BenchGoodputCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var intervals = new Option<double[]>("--intervals")
        {
            Description = "Mean seconds between faults, one run each (default: 30 60 120).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [30, 60, 120],
        };
        var steps = new Option<int>("--steps") { Description = "DiT steps of the job (its length without faults).", DefaultValueFactory = _ => new GoodputBenchmark().DitSteps };
        var seed = new Option<int>("--seed") { Description = "Seed of the faults' times and kinds.", DefaultValueFactory = _ => 1 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        OptionRules.RequireAtLeast(1, steps);
        var command = new Command("goodput", "The effective training time ratio (time on steps that count over wall time) of a 2-host job whose hosts share only the store, under faults of random kinds (worker kill, a node's workers killed, worker SIGSTOP, the launch process killed and restarted) at exponentially distributed times of each mean interval, against the same job without faults, and where the rest went (needs root).")
        {
            intervals, steps, seed, json,
        };
        command.SetAction(parse =>
        {
            if (Environment.UserName != "root")
            {
                throw new InvalidOperationException("sora bench goodput makes network namespaces: run it as root");
            }

            if (parse.GetRequiredValue(intervals).Any(i => !(i > 0)))
            {
                throw new ArgumentException("--intervals: every mean interval must be a positive number of seconds");
            }

            var benchmark = new GoodputBenchmark { DitSteps = parse.GetValue(steps), Seed = parse.GetValue(seed) };
            var status = new SynchronousProgress<string>(s => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(s)}[/]"));
            status.Report("the job without faults: its step time is the training that counts");
            var baseline = benchmark.RunAsync(null, null, status).GetAwaiter().GetResult();
            var results = new List<GoodputResult> { baseline };
            foreach (var interval in parse.GetRequiredValue(intervals))
            {
                results.Add(benchmark.RunAsync(TimeSpan.FromSeconds(interval), baseline.Time.Training, status).GetAwaiter().GetResult());
            }

            var table = new Table().AddColumns("mean interval", "faults", "wall (s)", "goodput", "start-up", "detection", "restart", "reload", "redone", "other");
            foreach (var r in results)
            {
                var t = r.Time;
                table.AddRow(r.MeanIntervalSeconds is { } i ? $"{i:F0} s" : "no faults", r.Faults.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{t.Wall:F0}", $"{t.Goodput:P1}",
                    Part(t.Startup, t), Part(t.Detection, t), Part(t.Restart, t), Part(t.Reload, t), Part(t.Redone, t), Part(t.Other, t));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"goodput: the uninterrupted run's step time ({baseline.Time.Training:F0} s: its first step to its end) over each run's wall time. Seconds and shares of the wall: start-up (launch to first step), detection (fault to the round's end or a new coordinator), restart (to the next round's start), reload (to its first step: workers, data, checkpoint), redone (steps trained again × the step time), other (checkpoint and evaluation pauses, noise). {benchmark.DitSteps} DiT steps, checkpoint every {benchmark.CheckpointEvery}, seed {benchmark.Seed}.");
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(results, s_json));
            }

            return 0;
        });
        return command;
    }

    private static string Part(double seconds, GoodputBreakdown time) => $"{seconds:F0} s ({seconds / time.Wall:P0})";
}
