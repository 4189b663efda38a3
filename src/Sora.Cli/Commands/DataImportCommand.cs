using System.CommandLine;
using Sora.Data.Dataset;
using Sora.Data.Storage;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora data import FOLDER</c>: video files (ffmpeg) cut into clips with sidecar captions, as Parquet shards.</summary>
internal static class DataImportCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "A folder of videos (.mp4 .mov .mkv .webm .avi .gif), each with a caption file beside it (clip.mp4 → clip.txt)." };
        var output = new Option<string>("--output") { Description = "Directory or blob location (az://CONTAINER/PREFIX, https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX) to write part-00000.parquet, ... into (must hold no shards yet).", Required = true };
        var credential = StorageOptions.Credential("--credential", "--output");
        var lengths = new Option<int[]>("--lengths") { Description = "Clip lengths in frames (1 = images), e.g. --lengths 1 8 16.", DefaultValueFactory = _ => [8], AllowMultipleArgumentsPerToken = true };
        var stride = new Option<int?>("--stride") { Description = "Frames between clip starts (default: the clip length)." };
        var maxSide = new Option<int?>("--max-side") { Description = "Scale so the longer side is at most this many pixels, keeping the aspect ratio (default: native size)." };
        var shardSize = new Option<double>("--shard-size-mb") { Description = "Target largest shard in MiB.", DefaultValueFactory = _ => 256 };
        var command = new Command("import", "Import a folder of videos: decode with ffmpeg at their own aspect ratio, cut clips of the chosen lengths, caption them from sidecar files, write Parquet shards.")
        {
            folder, output, credential, lengths, stride, maxSide, shardSize,
        };
        command.SetAction(parse =>
        {
            var options = new VideoImportOptions { Lengths = parse.GetValue(lengths)!, Stride = parse.GetValue(stride), MaxSide = parse.GetValue(maxSide) }.Validate();
            var target = parse.GetRequiredValue(output);
            var writerOptions = new VideoShardWriterOptions
            {
                MaxShardBytes = (long)(parse.GetValue(shardSize) * 1024 * 1024),
            };
            IReadOnlyList<(string Video, int Clips)> imported = [];
            IReadOnlyList<VideoShard> shards = [];
            AnsiConsole.Status().Start("importing", context =>
            {
                using var writer = new VideoShardWriter(ShardStorage.OpenSink(target, writerOptions.Prefix, parse.GetValue(credential)), writerOptions);
                imported = VideoImporter.Import(parse.GetRequiredValue(folder).FullName, writer, options,
                    progress: new Progress<string>(m => context.Status(Markup.Escape(m))));
                shards = writer.Complete();
            });

            foreach (var (video, clips) in imported)
            {
                AnsiConsole.MarkupLine($"  {Markup.Escape(video)}: {clips} clip(s)");
            }

            AnsiConsole.MarkupLine($"wrote {imported.Sum(i => i.Clips):N0} clips from {imported.Count} video(s) in {shards.Count} shard(s) to [blue]{Markup.Escape(AzureBlobLocation.Redacted(target))}[/]");
            return 0;
        });
        return command;
    }
}
