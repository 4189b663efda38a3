using System.CommandLine;
using System.Diagnostics;
using Sora.Data.Dataset;
using Sora.Data.Parquet;
using Sora.Data.Synthetic;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora data gen</c>: the synthetic moving-shapes dataset as Parquet shards of uint8 pixels.</summary>
internal static class DataGenCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "Directory to write part-00000.parquet, ... into (must hold no shards yet).", Required = true };
        var samples = new Option<long>("--samples") { Description = "How many clips to generate.", Required = true };
        var shardSize = new Option<double>("--shard-size-mb") { Description = "Target largest shard in MiB.", DefaultValueFactory = _ => 256 };
        var seed = new Option<ulong>("--seed") { Description = "Dataset seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 0 };
        var rowsPerGroup = new Option<int>("--rows-per-group") { Description = "Rows per Parquet row group.", DefaultValueFactory = _ => 64 };
        var compression = new Option<string>("--compression") { Description = "Page compression: zstd, snappy, gzip or none.", DefaultValueFactory = _ => "zstd" };
        compression.AcceptOnlyFromAmong("zstd", "snappy", "gzip", "none");
        var command = new Command("gen", "Generate the synthetic moving-shapes dataset (uint8 pixels, channels-first) as Parquet shards.")
        {
            output, samples, shardSize, seed, rowsPerGroup, compression,
        };
        samples.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < 1)
            {
                result.AddError("--samples must be at least 1");
            }
        });
        shardSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is var size && (!double.IsFinite(size) || size <= 0))
            {
                result.AddError("--shard-size-mb must be above 0");
            }
        });
        rowsPerGroup.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--rows-per-group must be at least 1");
            }
        });
        command.SetAction(parse =>
        {
            var directory = parse.GetRequiredValue(output).FullName;
            var count = parse.GetValue(samples);
            var codec = parse.GetValue(compression) switch
            {
                "snappy" => CompressionCodec.Snappy,
                "gzip" => CompressionCodec.Gzip,
                "none" => CompressionCodec.None,
                _ => CompressionCodec.Zstd,
            };
            var options = new VideoShardWriterOptions
            {
                RowsPerRowGroup = parse.GetValue(rowsPerGroup),
                MaxShardBytes = (long)(parse.GetValue(shardSize) * 1024 * 1024),
                Parquet = new ParquetWriterOptions { Compression = codec, ZstdLevel = 1 },
            };
            var stopwatch = Stopwatch.StartNew();
            IReadOnlyList<VideoShard> shards = [];
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"moving shapes → {Markup.Escape(directory)}", maxValue: count);
                    shards = MovingShapesShards.Write(directory, count, parse.GetValue(seed), MovingShapesOptions.Default, options, new SynchronousProgress(done => task.Value = done));
                    task.Value = count;
                });

            var bytes = shards.Sum(s => s.Bytes);
            AnsiConsole.MarkupLine(
                $"wrote {count:N0} samples in {shards.Count} shard(s), {bytes / 1048576.0:F1} MiB ({codec.ToString().ToLowerInvariant()}), in {stopwatch.Elapsed.TotalSeconds:F1} s to [blue]{Markup.Escape(directory)}[/]");
            return 0;
        });
        return command;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and race the display).</summary>
    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
