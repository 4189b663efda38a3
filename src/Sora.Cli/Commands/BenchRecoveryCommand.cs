using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Data;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench recovery</c>: per fault, seconds to detection and back to training, and steps redone, on a namespace cluster.</summary>
internal static class BenchRecoveryCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static Command Create()
    {
        var faults = new Option<RecoveryFault[]>("--faults")
        {
            Description = "Faults to inject, one run each: WorkerKill, Hang, NodeKill, Partition (default: all).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => Enum.GetValues<RecoveryFault>(),
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("recovery", "Seconds from a fault (worker kill, hang, node kill, partition) to its detection and to the first training step of the new round, the steps redone and the bytes read from the store to resume, on a 3-host network-namespace cluster whose hosts share only the store (private disks, Azurite; needs root).")
        {
            faults, json,
        };
        command.SetAction(parse =>
        {
            if (Environment.UserName != "root")
            {
                throw new InvalidOperationException("sora bench recovery makes network namespaces: run it as root");
            }

            var benchmark = new RecoveryBenchmark();
            var status = new SynchronousProgress<string>(s => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(s)}[/]"));
            var results = parse.GetRequiredValue(faults).Select(fault => benchmark.RunAsync(fault, status).GetAwaiter().GetResult()).ToList();
            var table = new Table().AddColumns("fault", "detection (s)", "back to training (s)", "steps redone", "resumed from", "read from the store", "cause");
            foreach (var r in results)
            {
                table.AddRow(r.Fault.ToString(), $"{r.DetectionSeconds:F1}", $"{r.BackToTrainingSeconds:F1}", r.StepsRedone.ToString(), r.ResumedFrom.ToString(), $"{r.BytesReadOnResume / 1e6:F1} MB", Markup.Escape(r.Cause));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"steps redone: the DiT step the ranks had reported at detection (heartbeats at 1 Hz) minus the step resumed from; checkpoint every {benchmark.CheckpointEvery} steps; hang timeout {benchmark.HangTimeout} s (a hang's detection is that plus up to a 1 s tick). Goals: worker kill back to training in <= 15 s, partition detected in <= 10 s.");
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(results, s_json));
            }

            return 0;
        });
        return command;
    }
}
