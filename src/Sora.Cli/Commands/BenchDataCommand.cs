using System.CommandLine;
using System.Text.Json;
using Sora.Checkout;
using Sora.Cli.Bench;
using Sora.Cli.Console;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench data</c>: our Parquet payload decode against DuckDB in the same run, and loader vs step.</summary>
internal static class BenchDataCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var dataset = new Option<DirectoryInfo?>("--dataset") { Description = "A directory of dataset shards (default: generate the synthetic dataset into a temporary directory)." };
        var size = new Option<long>("--size-mb") { Description = "When generating: MiB of (decoded) payload.", DefaultValueFactory = _ => 1024 };
        var compression = new Option<string>("--compression") { Description = "When generating: none, snappy, gzip or zstd.", DefaultValueFactory = _ => "snappy" };
        var threads = new Option<int>("--duckdb-threads") { Description = "DuckDB's threads (ours reads on one).", DefaultValueFactory = _ => 1 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("data", "Payload decode MB/s and samples/s of our Parquet reader vs DuckDB on the same files, and the loader vs a bench training step.")
        {
            dataset, size, compression, threads, json,
        };
        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            var given = parse.GetValue(dataset)?.FullName;
            var directory = given ?? Path.Combine(Path.GetTempPath(), $"sora-bench-data-{Guid.NewGuid():N}");
            try
            {
                DataBenchmarkReport report = null!;
                AnsiConsole.Status().Start("benchmarking", context =>
                {
                    var progress = new Progress<string>(m => context.Status(Markup.Escape(m)));
                    if (given is null)
                    {
                        DataBenchmark.Generate(directory, parse.GetValue(size), parse.GetValue(compression)!, progress);
                    }

                    report = new DataBenchmark { Dataset = directory, RepositoryRoot = SourceCheckout.Root(), DuckDbThreads = parse.GetValue(threads) }.Run(progress);
                });

                var table = new Table().Title($"payload column, {report.Rows:N0} samples in {report.Files} file(s), {report.PayloadBytes / 1e6:N0} MB decoded ({report.BytesOnDisk / 1e6:N1} MB on disk)")
                    .Border(TableBorder.Rounded).AddColumns("reader", "seconds (best of 3)", "MB/s", "samples/s");
                table.AddRow("ours, 1 thread", report.OurSeconds.ToString("F3"), report.OurMBps.ToString("N0"), (report.Rows / report.OurSeconds).ToString("N0"));
                table.AddRow($"DuckDB, {report.DuckDbThreads} thread(s)", report.DuckDbSeconds.ToString("F3"), report.DuckDbMBps.ToString("N0"), (report.Rows / report.DuckDbSeconds).ToString("N0"));
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine($"ours ÷ DuckDB = {report.Ratio:F2} (goal ≥ 1.0)");
                AnsiConsole.MarkupLine($"loader (plan, prefetch, decode, to float tensors): {report.LoaderSamplesPerSecond:N0} samples/s; a bench training step consumes {report.StepSamplesPerSecond:F2} samples/s: {report.LoaderHeadroom:N0}x headroom (the loader is never the bottleneck when ≥ 1)");
                if (parse.GetValue(json) is { } file)
                {
                    File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
                }

                return 0;
            }
            finally
            {
                if (given is null && Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        });
        return command;
    }
}
