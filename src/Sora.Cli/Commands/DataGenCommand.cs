using System.CommandLine;
using System.Diagnostics;
using Parquet;
using Sora.Data;
using Sora.Data.Dataset;
using Sora.Data.Storage;
using Sora.Data.Synthetic;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora data gen</c>: the synthetic moving-shapes dataset as Parquet shards of uint8 pixels.</summary>
internal static class DataGenCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "Directory or blob location (az://CONTAINER/PREFIX, https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX) to write part-00000.parquet, ... into (must hold no shards yet).", Required = true };
        var credential = StorageOptions.Credential("--credential", "--output");
        var samples = new Option<long>("--samples") { Description = "How many clips to generate.", Required = true };
        var shardSize = new Option<double>("--shard-size-mb") { Description = "Target largest shard in MiB.", DefaultValueFactory = _ => 256 };
        var seed = new Option<ulong>("--seed") { Description = "Dataset seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 0 };
        var rowsPerGroup = new Option<int>("--rows-per-group") { Description = "Rows per Parquet row group.", DefaultValueFactory = _ => 64 };
        var compression = new Option<string>("--compression") { Description = "Page compression: zstd, snappy, gzip or none.", DefaultValueFactory = _ => "zstd" };
        compression.AcceptOnlyFromAmong("zstd", "snappy", "gzip", "none");
        var sizes = new Option<string?>("--sizes") { Description = "Frame sizes as HxW, comma-separated (default: 32x32,48x32,32x48,64x64)." };
        var lengths = new Option<string?>("--lengths") { Description = "Clip lengths in frames, comma-separated; 1 = images (default: 1,8,16)." };
        var command = new Command("gen", "Generate the synthetic moving-shapes dataset (uint8 pixels, channels-first) as Parquet shards.")
        {
            output, credential, samples, shardSize, seed, rowsPerGroup, compression, sizes, lengths,
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
            var target = parse.GetRequiredValue(output);
            var count = parse.GetValue(samples);
            var codec = parse.GetValue(compression) switch
            {
                "snappy" => CompressionMethod.Snappy,
                "gzip" => CompressionMethod.Gzip,
                "none" => CompressionMethod.None,
                _ => CompressionMethod.Zstd,
            };
            var options = new VideoShardWriterOptions
            {
                RowsPerRowGroup = parse.GetValue(rowsPerGroup),
                MaxShardBytes = (long)(parse.GetValue(shardSize) * 1024 * 1024),
                Compression = codec,
            };
            var generator = ParseGeneratorOptions(parse.GetValue(sizes), parse.GetValue(lengths));
            var stopwatch = Stopwatch.StartNew();
            IReadOnlyList<VideoShard> shards = [];
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"moving shapes → {Markup.Escape(AzureBlobLocation.Redacted(target))}", maxValue: count);
                    var sink = ShardStorage.OpenSink(target, options.Prefix, parse.GetValue(credential));
                    shards = MovingShapesShards.Write(sink, count, parse.GetValue(seed), generator, options, new SynchronousProgress<long>(done => task.Value = done));
                    task.Value = count;
                });

            var bytes = shards.Sum(s => s.Bytes);
            AnsiConsole.MarkupLine(
                $"wrote {count:N0} samples in {shards.Count} shard(s), {bytes / 1048576.0:F1} MiB ({codec.ToString().ToLowerInvariant()}), in {stopwatch.Elapsed.TotalSeconds:F1} s to [blue]{Markup.Escape(AzureBlobLocation.Redacted(target))}[/]");
            return 0;
        });
        return command;
    }

    /// <summary>The generator options of <c>--sizes 32x32,48x32</c> and <c>--lengths 1,8</c> (either may be absent).</summary>
    internal static MovingShapesOptions ParseGeneratorOptions(string? sizes, string? lengths)
    {
        var options = MovingShapesOptions.Default;
        if (sizes is not null)
        {
            options = options with
            {
                Sizes = sizes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(size =>
                {
                    var parts = size.Split('x', 'X');
                    return parts.Length == 2 && int.TryParse(parts[0], out var height) && int.TryParse(parts[1], out var width)
                        ? new FrameSize(height, width)
                        : throw new ArgumentException($"--sizes: '{size}' is not HEIGHTxWIDTH (for example 32x48)");
                }).ToArray(),
            };
        }

        if (lengths is not null)
        {
            options = options with
            {
                Lengths = lengths.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(length => int.TryParse(length, out var frames) ? frames : throw new ArgumentException($"--lengths: '{length}' is not a frame count"))
                    .ToArray(),
            };
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--sizes/--lengths: {e.Message}", e);
        }

        return options;
    }
}
