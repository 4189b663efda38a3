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

    /// <summary>What each figure measures, printed under the tables (docs/operations.md says the same).</summary>
    private static readonly string[] Definitions =
    [
        "save = the shard (temp file, writeback started every 8 MiB, fsync, rename, directory fsync; its 4 MiB chunks' SHA-256s computed meanwhile on the other cores) + manifest + latest pointer (each fsynced the same way).",
        "load = read the shard straight into new tensors (one huge-page mapping) + SHA-256 of every 4 MiB chunk, on every core, checked against the manifest before any tensor is returned.",
        "plain write = the same tensor bytes in order through one FileStream (1 MiB buffer) over the previous repetition's file, then fsync: no hash, header, temp file, rename or manifest.",
        "plain read = that file front to back into one reused 1 MiB buffer: nothing kept, nothing checked. Warm: pages cached, as right after the save; cold: evicted first.",
        "Azurite: plain = one Put Blob / one Get Blob of the same bytes. Every figure is the best of the repetitions, all in one run.",
    ];

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
            if (report.Stores.Where(r => r.ColdLoadMBps is not null).ToList() is { Count: > 0 } cold)
            {
                var coldTable = new Table().Title("the same loads with the files' pages evicted first (posix_fadvise DONTNEED): reads from the disk")
                    .Border(TableBorder.Rounded).AddColumns("store", "cold load MB/s", "cold plain read MB/s", "cold load ÷ plain");
                foreach (var row in cold)
                {
                    coldTable.AddRow(row.Store, row.ColdLoadMBps!.Value.ToString("N0"), row.ColdPlainReadMBps!.Value.ToString("N0"), row.ColdLoadRatio!.Value.ToString("F2"));
                }

                AnsiConsole.Write(coldTable);
            }

            AnsiConsole.MarkupLine($"async save: the training loop waits {report.BlockingSeconds * 1000:F1} ms (copy into reused host buffers) against a {report.StepSeconds * 1000:F0} ms bench step: {report.BlockingShare:P1} (goal < 5%); the first save, which allocates them, {report.FirstBlockingSeconds * 1000:F1} ms");
            foreach (var line in Definitions)
            {
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
            }

            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
            }

            return 0;
        });
        return command;
    }
}
