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
        var readAhead = new Option<int>("--read-ahead") { Description = "Batches the parallel loader reads together (data loader option read_ahead_batches).", DefaultValueFactory = _ => 16 };
        var loaderThreads = new Option<int>("--loader-threads") { Description = "Decode threads of the parallel loader.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("data", "Payload decode MB/s and samples/s of our Parquet reader vs DuckDB on the same files, and the loader vs a bench training step.")
        {
            dataset, size, compression, threads, readAhead, loaderThreads, json,
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

                    report = new DataBenchmark { Dataset = directory, RepositoryRoot = SourceCheckout.Root(), DuckDbThreads = parse.GetValue(threads), ReadAheadBatches = parse.GetValue(readAhead), LoaderThreads = parse.GetValue(loaderThreads) }.Run(progress);
                });

                var table = new Table().Title($"payload column, {report.Rows:N0} samples in {report.Files} file(s), {report.PayloadBytes / 1e6:N0} MB decoded ({report.BytesOnDisk / 1e6:N1} MB on disk)")
                    .Border(TableBorder.Rounded).AddColumns("reader", "seconds (best of 3)", "MB/s", "samples/s");
                table.AddRow("ours, 1 thread", report.OurSeconds.ToString("F3"), report.OurMBps.ToString("N0"), (report.Rows / report.OurSeconds).ToString("N0"));
                table.AddRow($"DuckDB, {report.DuckDbThreads} thread(s)", report.DuckDbSeconds.ToString("F3"), report.DuckDbMBps.ToString("N0"), (report.Rows / report.DuckDbSeconds).ToString("N0"));
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine($"ours ÷ DuckDB = {report.Ratio:F2} (goal ≥ 1.0)");
                var loaders = new Table().Title($"loader (plan, prefetch, decode, to float tensors), batches of {DataBenchmark.DefaultLoaderBatch}").Border(TableBorder.Rounded)
                    .AddColumns("read-ahead batches", "decode threads", "samples/s", "time making tensors");
                foreach (var run in new[] { report.SerialLoader, report.OneThreadLoader, report.ParallelLoader }.Distinct())
                {
                    loaders.AddRow(run.ReadAheadBatches.ToString(), run.Threads.ToString(), run.SamplesPerSecond.ToString("N0"), run.TensorShare.ToString("P0"));
                }

                AnsiConsole.Write(loaders);
                AnsiConsole.MarkupLine($"a bench training step consumes {report.StepSamplesPerSecond:F2} samples/s: the loader is {report.LoaderHeadroom:N0}x ahead (never the bottleneck when ≥ 1)");
                AnsiConsole.MarkupLine(
                    $"dit-b on an H100 consumes {DataBenchmarkReport.DitBH100SamplesPerSecond:N0} samples/s (32 per 54 ms step): the loader is {report.DitBHeadroom:F2}x ahead (goal ≥ {DataBenchmarkReport.HeadroomGoal:N0}x); " +
                    $"at {report.OneThreadLoader.SamplesPerSecond:N0} samples/s per decode thread that needs about {report.ThreadsForDitBGoal} threads on as many free cores (this machine has {Environment.ProcessorCount})");
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
