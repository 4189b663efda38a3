using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Sora.Cli.Launch;
using Sora.Cluster.Coordinator;
using Spectre.Console;
using Sora.Metrics.Job;

namespace Sora.Cli.Commands;

/// <summary><c>sora status</c> and <c>sora stop</c>: the running job through the coordinator's HTTP API.</summary>
internal static class StatusCommand
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var (coordinator, tokenFile, json) = Options();
        var command = new Command("status", "Show a running job: state, round, world size, every rank's step and heartbeat age, restarts and their causes, the last checkpoint.")
        {
            coordinator, tokenFile, json,
        };
        command.SetAction(parse =>
        {
            using var client = Client(parse.GetValue(coordinator), parse.GetValue(tokenFile));
            var status = Send(client, HttpMethod.Get, "/api/status", r => r.Content.ReadFromJsonAsync<JobStatus>(s_json).GetAwaiter().GetResult()!);
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(JsonSerializer.Serialize(status, s_json));
                return 0;
            }

            Print(status);
            var job = Send(client, HttpMethod.Get, "/api/job", r => r.Content.ReadFromJsonAsync<JobView>(s_json).GetAwaiter().GetResult()!);
            var ranks = Send(client, HttpMethod.Get, "/api/ranks", r => r.Content.ReadFromJsonAsync<RankView[]>(s_json).GetAwaiter().GetResult()!);
            var checkpoints = Send(client, HttpMethod.Get, "/api/checkpoints", r => r.Content.ReadFromJsonAsync<CheckpointView[]>(s_json).GetAwaiter().GetResult()!);
            PrintStages(job, checkpoints);
            PrintThroughput(job, ranks);
            return 0;
        });
        return command;
    }

    public static Command CreateDashboard()
    {
        var (coordinator, tokenFile, _) = Options();
        var command = new Command("dashboard", "Print a one-time link that opens the running job's live dashboard in a browser (the link is exchanged for a session; the token never reaches the page).")
        {
            coordinator, tokenFile,
        };
        command.SetAction(parse =>
        {
            using var client = Client(parse.GetValue(coordinator), parse.GetValue(tokenFile));
            var link = Send(client, HttpMethod.Post, "/api/dashboard-link", r => r.Content.ReadFromJsonAsync<DashboardLink>(s_json).GetAwaiter().GetResult()!);
            System.Console.WriteLine(new Uri(client.BaseAddress!, link.Url.TrimStart('/')));
            return 0;
        });
        return command;
    }

    private sealed record DashboardLink(string Url);

    /// <summary>The stage the job is in, and each stage's last committed checkpoint (both stages checkpoint).</summary>
    private static void PrintStages(JobView job, CheckpointView[] checkpoints)
    {
        if (job.Stage.Length > 0)
        {
            AnsiConsole.MarkupLine($"  stage: {StageName(job.Stage)}, step {job.Step}/{job.TotalSteps}" + (job.Loss is { } l ? $", loss {l:F4}" : "") + (job.HeldOutLoss is { } h ? $", held-out {h:F4}" : ""));
        }

        var committed = StageNames.Keys.Select(stage => checkpoints.Where(c => c.Stage == stage && c.CommittedAt is not null).MaxBy(c => c.Step) is { } c
            ? $"{StageName(stage)} step {c.Step} at {c.CommittedAt!.Value.ToLocalTime():HH:mm:ss}" + (c.Bytes > 0 ? $" ({c.Bytes / 1e6:F1} MB)" : "")
            : $"{StageName(stage)} none yet");
        AnsiConsole.MarkupLine($"  checkpoints: {string.Join("; ", committed)}");
    }

    private static readonly Dictionary<string, string> StageNames = new(StringComparer.Ordinal) { ["vae"] = "VAE", ["dit"] = "DiT" };

    private static string StageName(string stage) => StageNames.GetValueOrDefault(stage, stage);

    private static void PrintThroughput(JobView job, RankView[] ranks)
    {
        AnsiConsole.MarkupLine($"  throughput: {job.SamplesPerSecond:F2} samples/s" + (job.Mfu is { } mfu ? $", MFU {mfu:P1}" : "") +
            $"; {job.StepsTotal} steps and {job.SamplesTotal} samples trained since the coordinator started");
        // Ranks that train on a GPU report its memory (what libtorch holds there); CPU ranks report none.
        var gpus = ranks.Where(r => r.DeviceBytes > 0).ToArray();
        if (gpus.Length > 0)
        {
            var table = new Table().AddColumns("rank", "node", "device", "device memory", "model TFLOP/s", "MFU");
            foreach (var r in gpus)
            {
                table.AddRow(r.Rank.ToString(), Markup.Escape(r.Node), $"cuda:{r.LocalRank}", $"{r.DeviceBytes / 1e9:F1} GB", $"{r.ModelFlopsPerSecond / 1e12:F1}",
                    r.Mfu is { } m ? $"{m:P1}" : "-");
            }

            AnsiConsole.Write(table);
        }

        foreach (var r in ranks.Where(r => r.Straggler))
        {
            AnsiConsole.MarkupLine($"  [yellow]straggler[/]: rank {r.Rank} on '{Markup.Escape(r.Node)}' is busy {r.StepTimeRatio:F1}× the other ranks' median per step (fault.straggler_ratio {job.StragglerRatio})");
        }
    }

    public static Command CreateStop()
    {
        var (coordinator, tokenFile, _) = Options();
        var command = new Command("stop", "Stop a running job gracefully: the workers agree on a step, checkpoint it and exit. Launch the same job again to continue.")
        {
            coordinator, tokenFile,
        };
        command.SetAction(parse =>
        {
            using var client = Client(parse.GetValue(coordinator), parse.GetValue(tokenFile));
            var answer = Send(client, HttpMethod.Post, "/api/stop", r => r.Content.ReadFromJsonAsync<StopAccepted>(s_json).GetAwaiter().GetResult()!);
            AnsiConsole.MarkupLine(answer.Accepted ? $"[green]{Markup.Escape(answer.Message)}[/]" : $"[yellow]{Markup.Escape(answer.Message)}[/]");
            return answer.Accepted ? 0 : 1;
        });
        return command;
    }

    private static (Option<string?> Coordinator, Option<string?> TokenFile, Option<bool> Json) Options() =>
    (
        new Option<string?>("--coordinator") { Description = "The coordinator's API, http://HOST:PORT (default: the one launched from this directory, .sora/coordinator.json)." },
        new Option<string?>("--token-file") { Description = "File holding the job token (default: SORA_JOB_TOKEN, else .sora/token)." },
        new Option<bool>("--json") { Description = "Print the status as JSON." }
    );

    private static HttpClient Client(string? coordinator, string? tokenFile)
    {
        var client = new HttpClient { BaseAddress = new Uri(ClusterJob.ApiUrl(coordinator) + "/"), Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ClusterJob.Token(tokenFile, create: false));
        return client;
    }

    private static T Send<T>(HttpClient client, HttpMethod method, string path, Func<HttpResponseMessage, T> read)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(method, path.TrimStart('/'));
            response = client.Send(request);
        }
        catch (HttpRequestException error)
        {
            throw new IOException($"cannot reach the coordinator at {client.BaseAddress}: {error.Message}", error);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new UnauthorizedAccessException($"the coordinator at {client.BaseAddress} refused the job token (401): use this job's token (SORA_JOB_TOKEN or --token-file)");
            }

            response.EnsureSuccessStatusCode();
            return read(response);
        }
    }

    private static void Print(JobStatus status)
    {
        AnsiConsole.MarkupLine($"job [blue]{Markup.Escape(status.Job)}[/]: [bold]{status.State}[/], round {status.Round}, world size {status.WorldSize}");
        AnsiConsole.MarkupLine($"  {Markup.Escape(status.Message)}");
        AnsiConsole.MarkupLine(status.LastCheckpoint is { } c
            ? $"  last checkpoint: {StageName(c.Stage)} step {c.Step} (round {c.Round}) in {Markup.Escape(status.CheckpointStore)}"
            : $"  last checkpoint: none yet ({Markup.Escape(status.CheckpointStore)})");
        var nodes = new Table().AddColumns("node", "host", "workers", "reachable", "in round", "heartbeat age");
        foreach (var n in status.Nodes)
        {
            nodes.AddRow(Markup.Escape(n.Node), n.Host, n.ProcessesPerNode.ToString(), n.Reachable ? "yes" : "[red]no[/]", n.InRound ? "yes" : "no", $"{n.HeartbeatAgeSeconds:F1} s");
        }

        AnsiConsole.Write(nodes);
        if (status.Ranks.Count > 0)
        {
            var ranks = new Table().AddColumns("rank", "node", "state", "stage", "step", "loss", "s/step", "last output", "heartbeat age", "memory");
            foreach (var r in status.Ranks)
            {
                ranks.AddRow(r.Rank.ToString(), Markup.Escape(r.Node), Markup.Escape(r.State), r.Stage, $"{r.Step}/{r.TotalSteps}", r.Loss is { } l ? $"{l:F4}" : "-",
                    r.StepSeconds is { } s ? $"{s:F2}" : "-", $"{r.SecondsSinceOutput:F1} s ago", $"{r.HeartbeatAgeSeconds:F1} s", $"{r.ResidentBytes / 1e6:F0} MB");
            }

            AnsiConsole.Write(ranks);
        }

        AnsiConsole.MarkupLine($"  restarts: {status.Restarts.Count} ({status.RestartsLeft} left)");
        foreach (var r in status.Restarts)
        {
            AnsiConsole.MarkupLine($"    round {r.Round} at {r.At:HH:mm:ss} ({r.Kind}): {Markup.Escape(r.Cause.Split('\n')[0])}");
        }
    }
}
