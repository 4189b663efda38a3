using System.CommandLine;
using System.Globalization;
using Sora.Data.Dataset;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora data inspect</c>: schema, shards, row groups, compression and a histogram of clip shapes.</summary>
internal static class DataInspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A dataset directory of *.parquet shards, or one Parquet file." };
        var command = new Command("inspect", "Show a Parquet dataset's schema, rows per shard, row groups, compression and clip shapes (read without payloads).") { path };
        command.SetAction(parse =>
        {
            var summary = VideoDatasetSummary.Inspect(parse.GetRequiredValue(path));
            Print(summary);
            return 0;
        });
        return command;
    }

    private static void Print(VideoDatasetSummary summary)
    {
        AnsiConsole.Write(new Panel(Markup.Escape(summary.Schema.ToString())).Header("schema").Border(BoxBorder.Rounded));

        var shards = new Table().Title("shards").Border(TableBorder.Rounded)
            .AddColumns("file", "rows", "row groups", "rows per group", "size", "compression", "written by");
        foreach (var shard in summary.Shards)
        {
            shards.AddRow(
                Markup.Escape(Path.GetFileName(shard.Path)),
                shard.Rows.ToString("N0", CultureInfo.InvariantCulture),
                shard.RowGroups.ToString(CultureInfo.InvariantCulture),
                shard.MinRowsPerGroup == shard.MaxRowsPerGroup ? $"{shard.MaxRowsPerGroup}" : $"{shard.MinRowsPerGroup}–{shard.MaxRowsPerGroup}",
                Size(shard.Bytes),
                string.Join(", ", shard.Codecs),
                Markup.Escape(shard.CreatedBy ?? "-"));
        }

        shards.AddRow("[bold]total[/]", $"[bold]{summary.Rows.ToString("N0", CultureInfo.InvariantCulture)}[/]", summary.Shards.Sum(s => s.RowGroups).ToString(CultureInfo.InvariantCulture), string.Empty, $"[bold]{Size(summary.Bytes)}[/]", string.Empty, string.Empty);
        AnsiConsole.Write(shards);

        if (summary.Shapes is not { } shapes)
        {
            AnsiConsole.MarkupLine("[grey]not a video dataset (no frames/height/width columns): no shape histogram[/]");
            return;
        }

        var chart = new BarChart().Label("clips by shape (frames×height×width)").Width(70);
        foreach (var (shape, count) in shapes.OrderBy(s => (s.Key.Frames, s.Key.Height, s.Key.Width)))
        {
            chart.AddItem(shape.ToString(), count, Color.SteelBlue);
        }

        AnsiConsole.Write(chart);
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:F1} MiB" : $"{bytes / 1024.0:F1} KiB";
}
