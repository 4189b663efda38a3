using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Cli.Console;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench checkpoint</c>: checkpoint save/load vs plain I/O of the same bytes, local and Azurite; async blocking time.</summary>
internal static class BenchCheckpointCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions (the best is reported).", DefaultValueFactory = _ => 3 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("checkpoint", "Save and load MB/s of a bench-model checkpoint vs a plain write and read of the same bytes (local disk, Azurite), and the blocking time of an async save vs a bench step.") { repeats, json };
        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            CheckpointBenchmarkReport report = null!;
            AnsiConsole.Status().Start("benchmarking", context =>
            {
                report = new CheckpointBenchmark { Repeats = parse.GetValue(repeats) }
                    .Run(new Progress<string>(m => context.Status(Markup.Escape(m))));
            });

            var table = new Table().Title($"bench-model checkpoint: {report.Bytes / 1e6:F0} MB (weights, AdamW moments, EMA), best of {parse.GetValue(repeats)}")
                .Border(TableBorder.Rounded).AddColumns("store", "save MB/s", "plain write MB/s", "save ÷ plain (goal ≥ 0.70)", "load MB/s", "plain read MB/s", "load ÷ plain (goal ≥ 0.70)");
            foreach (var row in report.Stores)
            {
                table.AddRow(row.Store, row.SaveMBps.ToString("N0"), row.PlainWriteMBps.ToString("N0"), row.SaveRatio.ToString("F2"),
                    row.LoadMBps.ToString("N0"), row.PlainReadMBps.ToString("N0"), row.LoadRatio.ToString("F2"));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"async save: the training loop waits {report.BlockingSeconds * 1000:F1} ms (copy to host memory) against a {report.StepSeconds * 1000:F0} ms bench step: {report.BlockingShare:P1} (goal < 5%)");
            AnsiConsole.MarkupLine("[grey]save = hash + upload of the shard + manifest + latest pointer; load = read + SHA-256 check of every byte. Plain: one sequential write (fsync) / read of the same bytes; on Azurite one Put Blob / Get Blob.[/]");
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
            }

            return 0;
        });
        return command;
    }
}
