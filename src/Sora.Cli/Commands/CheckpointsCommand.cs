using System.CommandLine;
using System.Globalization;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora checkpoints list|show|verify|prune</c>: inspect, check and thin out the sharded checkpoints in a store.</summary>
internal static class CheckpointsCommand
{
    public static Command Create()
    {
        var command = new Command("checkpoints", "Inspect, verify and prune sharded checkpoints in a local directory or an Azure Blob container.");
        command.Subcommands.Add(Sub("list", "List checkpoints: step, world size, size, creation time; the latest is marked.", ListAsync));
        var showStep = NewStepOption();
        command.Subcommands.Add(Sub("show", "Summarise one checkpoint's manifest: run state, shards, tensors by kind.", (p, o, s, c) => ShowAsync(p, o, showStep, s, c), showStep));
        var verifyStep = NewStepOption();
        var all = new Option<bool>("--all") { Description = "Verify every complete checkpoint, not only one." };
        command.Subcommands.Add(Sub("verify", "Check the SHA-256 and size of every shard; exits with 1 on any corruption.", (p, o, s, c) => VerifyAsync(p, o, verifyStep, all, s, c), verifyStep, all));
        var keepLast = new Option<int>("--keep-last") { Description = "Keep this many of the newest checkpoints.", DefaultValueFactory = _ => 3 };
        var keepEvery = new Option<long>("--keep-every") { Description = "Also keep every step divisible by this (0: none).", DefaultValueFactory = _ => 0 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan without deleting." };
        command.Subcommands.Add(Sub("prune", "Delete checkpoints outside the retention policy (never the latest).", (p, o, s, c) => PruneAsync(p, o, keepLast, keepEvery, dryRun, s, c), keepLast, keepEvery, dryRun));
        return command;
    }

    private static Option<long?> NewStepOption() => new("--step") { Description = "The checkpoint's step (default: the one 'latest' names)." };

    private static Command Sub(string name, string description, Func<ParseResult, StoreOptions, ICheckpointStore, CancellationToken, Task<int>> action, params Option[] extra)
    {
        var options = new StoreOptions();
        var command = new Command(name, description) { options.Store, options.Credential, options.ConnectionString, options.Container, options.Prefix };
        foreach (var option in extra)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = options.Open(parse);
            try
            {
                return await action(parse, options, store, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CheckpointStoreException or CheckpointFormatException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 1;
            }
            finally
            {
                (store as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    private static async Task<int> ListAsync(ParseResult parse, StoreOptions options, ICheckpointStore store, CancellationToken cancellationToken)
    {
        var layout = options.Layout(parse);
        var reader = new ShardedCheckpointReader(store, layout);
        var latest = await ReadLatestOrWarnAsync(reader).ConfigureAwait(false);
        var folders = await reader.ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        var table = new Table().Border(TableBorder.Rounded).AddColumns("step", "latest", "world", "size", "objects", "created (UTC)", "state");
        foreach (var (step, hasManifest, objects, bytes) in folders)
        {
            string world = "", created = "", state;
            if (!hasManifest)
            {
                state = "[yellow]incomplete (no manifest)[/]";
            }
            else
            {
                try
                {
                    var manifest = await reader.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                    world = manifest.WorldSize.ToString(CultureInfo.InvariantCulture);
                    created = manifest.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                    state = latest is { } l && step > l ? "[yellow]complete, not committed[/]" : "complete";
                }
                catch (CheckpointFormatException e)
                {
                    state = "[red]bad manifest[/]";
                    problems.Add(e.Message);
                }
            }

            table.AddRow(step.ToString(CultureInfo.InvariantCulture), latest == step ? "[green]*[/]" : "", world, FormatBytes(bytes), objects.ToString(CultureInfo.InvariantCulture), created, state);
        }

        AnsiConsole.Write(table);
        foreach (var problem in problems)
        {
            AnsiConsole.MarkupLine($"[red]bad manifest:[/] {Markup.Escape(problem)}");
        }

        AnsiConsole.MarkupLine($"{folders.Count} step folder(s) in {Markup.Escape(store.Location)} under [blue]{Markup.Escape(layout.Root)}/[/]");
        return 0;
    }

    private static async Task<int> ShowAsync(ParseResult parse, StoreOptions options, Option<long?> stepOption, ICheckpointStore store, CancellationToken cancellationToken)
    {
        var reader = new ShardedCheckpointReader(store, options.Layout(parse));
        var step = await ResolveStepAsync(parse, stepOption, reader, cancellationToken).ConfigureAwait(false);
        var manifest = await reader.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("manifest", Markup.Escape(reader.Layout.Manifest(step)));
        grid.AddRow("step", manifest.Step.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("world size", manifest.WorldSize.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("format version", manifest.FormatVersion.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("shard digest", manifest.Shards.Count > 0 && manifest.Shards[0].ChunkBytes is { } chunk
            ? $"SHA-256 of the SHA-256s of {FormatBytes(chunk)} chunks"
            : "SHA-256 of the whole object");
        grid.AddRow("created (UTC)", manifest.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        grid.AddRow("config hash", Markup.Escape(manifest.ConfigHash));
        grid.AddRow("schedule position", manifest.SchedulePosition.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("data cursor", Markup.Escape(manifest.DataCursor ?? "(none)"));
        foreach (var (key, value) in manifest.Metadata)
        {
            grid.AddRow(Markup.Escape($"metadata.{key}"), Markup.Escape(value));
        }

        grid.AddRow("total size", FormatBytes(manifest.TotalBytes));
        AnsiConsole.Write(grid);

        var shards = new Table().Border(TableBorder.Rounded).AddColumns("rank", "object", "size", "sha256", "generators");
        foreach (var shard in manifest.Shards)
        {
            shards.AddRow(shard.Rank.ToString(CultureInfo.InvariantCulture), Markup.Escape(shard.Object), FormatBytes(shard.Size), shard.Sha256[..16] + "…",
                Markup.Escape(string.Join(", ", shard.GeneratorStates.Select(g => $"{g.Key} ({g.Value.Length} B)"))));
        }

        AnsiConsole.Write(shards);
        var kinds = new Table().Border(TableBorder.Rounded).AddColumns("kind", "tensors", "elements", "bytes", "dtypes");
        foreach (var group in manifest.Tensors.GroupBy(t => t.Kind).OrderBy(g => g.Key))
        {
            kinds.AddRow(group.Key.Name(), group.Count().ToString(CultureInfo.InvariantCulture), group.Sum(t => t.Numel).ToString("N0", CultureInfo.InvariantCulture),
                FormatBytes(group.Sum(t => t.ByteCount)), string.Join(", ", group.Select(t => t.DType.ToString()).Distinct().Order(StringComparer.Ordinal)));
        }

        AnsiConsole.Write(kinds);
        return 0;
    }

    private static async Task<int> VerifyAsync(ParseResult parse, StoreOptions options, Option<long?> stepOption, Option<bool> all, ICheckpointStore store, CancellationToken cancellationToken)
    {
        var reader = new ShardedCheckpointReader(store, options.Layout(parse));
        IReadOnlyList<long> steps = parse.GetValue(all)
            ? await reader.ListStepsAsync(cancellationToken).ConfigureAwait(false)
            : [await ResolveStepAsync(parse, stepOption, reader, cancellationToken).ConfigureAwait(false)];
        var bad = 0;
        foreach (var step in steps)
        {
            IReadOnlyList<CheckpointFormatException> problems;
            try
            {
                var manifest = await reader.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                problems = await reader.VerifyAsync(manifest, cancellationToken).ConfigureAwait(false);
                if (problems.Count == 0)
                {
                    AnsiConsole.MarkupLine($"step {step}: [green]ok[/] ({manifest.Shards.Count} shard(s), {FormatBytes(manifest.TotalBytes)})");
                    continue;
                }
            }
            catch (CheckpointFormatException e)
            {
                problems = [e];
            }

            bad++;
            foreach (var problem in problems)
            {
                AnsiConsole.MarkupLine($"step {step}: [red]{Markup.Escape(problem.Message)}[/]");
            }
        }

        if (steps.Count == 0)
        {
            AnsiConsole.MarkupLine("no complete checkpoints");
        }

        return bad == 0 ? 0 : 1;
    }

    private static async Task<int> PruneAsync(ParseResult parse, StoreOptions options, Option<int> keepLast, Option<long> keepEvery, Option<bool> dryRun, ICheckpointStore store, CancellationToken cancellationToken)
    {
        var retention = new CheckpointRetention(store, options.Layout(parse)) { KeepLast = parse.GetValue(keepLast), KeepEvery = parse.GetValue(keepEvery) };
        var plan = parse.GetValue(dryRun)
            ? await retention.PlanAsync(cancellationToken).ConfigureAwait(false)
            : await retention.PruneAsync(cancellationToken).ConfigureAwait(false);
        var verb = parse.GetValue(dryRun) ? "would delete" : "deleted";
        AnsiConsole.MarkupLine($"kept {Steps(plan.Keep)}; {verb} {Steps(plan.Delete)}; {verb} incomplete {Steps(plan.Incomplete)}");
        return 0;

        static string Steps(IReadOnlyList<long> steps) => steps.Count == 0 ? "none" : string.Join(", ", steps);
    }

    private static async Task<long> ResolveStepAsync(ParseResult parse, Option<long?> stepOption, ShardedCheckpointReader reader, CancellationToken cancellationToken) =>
        parse.GetValue(stepOption) ?? (await reader.ReadLatestAsync(cancellationToken).ConfigureAwait(false))?.Step
        ?? throw new InvalidDataException($"'{reader.Layout.Latest}' names no committed checkpoint: give --step");

    private static async Task<long?> ReadLatestOrWarnAsync(ShardedCheckpointReader reader)
    {
        try
        {
            return (await reader.ReadLatestAsync().ConfigureAwait(false))?.Step;
        }
        catch (CheckpointFormatException e)
        {
            AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(e.Message)}");
            return null;
        }
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1 << 10 => $"{bytes} B",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:F2} GiB"),
    };

    /// <summary>Where the checkpoints are: a local directory or a blob container (with a credential), or an Azure container through a connection string.</summary>
    private sealed class StoreOptions
    {
        public Option<string?> Store { get; } = new("--store") { Description = "A local directory store (the folder that holds 'checkpoints/'), or a blob container: az://CONTAINER or https://ACCOUNT.blob.core.windows.net/CONTAINER." };

        public Option<AzureCredentialKind> Credential { get; } = StorageOptions.Credential("--credential", "--store");

        public Option<string?> ConnectionString { get; } = new("--connection-string") { Description = "An Azure Storage connection string (instead of --store)." };

        public Option<string?> Container { get; } = new("--container") { Description = "The blob container, with --connection-string." };

        public Option<string> Prefix { get; } = new("--prefix") { Description = "The checkpoints' folder inside the store.", DefaultValueFactory = _ => "checkpoints" };

        public CheckpointLayout Layout(ParseResult parse) => new(parse.GetRequiredValue(Prefix));

        public ICheckpointStore Open(ParseResult parse)
        {
            var store = parse.GetValue(Store);
            var connection = parse.GetValue(ConnectionString);
            if ((store is null) == (connection is null))
            {
                throw new ArgumentException("give either --store DIR|az://CONTAINER or --connection-string with --container");
            }

            if (store is not null)
            {
                return AzureBlobLocation.IsBlobLocation(store) || Directory.Exists(store)
                    ? CheckpointStores.Open(store, parse.GetValue(Credential))
                    : throw new DirectoryNotFoundException($"--store: no directory '{Path.GetFullPath(store)}'");
            }

            var container = parse.GetValue(Container) ?? throw new ArgumentException("--connection-string needs --container");
            return AzureBlobStore.FromConnectionString(connection!, container);
        }
    }
}
