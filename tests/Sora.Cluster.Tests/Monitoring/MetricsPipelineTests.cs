using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Sora.Cluster.Agent;
using Xunit;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>
/// The metrics pipeline end to end on a real job: workers' instruments reach the coordinator through their agent, and
/// /metrics, the JSON API and the dashboard's login all serve the same state.
/// </summary>
[Collection(RunningJobCollection.Name)]
[Trait("Category", "MultiProcess")]
public sealed partial class MetricsPipelineTests(RunningJob job)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    // Every label a series may carry: none takes unbounded values (steps, files, times).
    private static readonly string[] AllowedLabels = ["run", "job_name", "model", "world_size", "total_steps", "version", "state", "cause", "stage", "rank", "node", "phase", "le"];

    [Fact]
    public async Task Metrics_needs_the_token_and_has_job_counters_and_every_rank()
    {
        using (var anonymous = new HttpClient())
        {
            (await anonymous.GetAsync(job.BaseUrl + "/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        await job.WaitForStepAsync(5, TimeSpan.FromMinutes(2));
        var text = await WaitForMetricsAsync(t => Value(t, "sora_train_steps_total") > 0);
        Value(text, "sora_train_samples_total").Should().BeGreaterThan(0);
        Value(text, "sora_job_world_size").Should().Be(job.Ranks);
        text.Should().Contain("sora_job_info{");
        for (var rank = 0; rank < job.Ranks; rank++)
        {
            text.Should().MatchRegex($"sora_rank_step_duration_seconds_count\\{{rank=\"{rank}\",node=\"[^\"]+\"\\}} [1-9]");
            text.Should().MatchRegex($"sora_rank_heartbeat_age_seconds\\{{rank=\"{rank}\",node=\"[^\"]+\"\\}}");
        }

        // HELP on every metric; only counters end in _total; only the allowed labels.
        var names = Regex.Matches(text, "^# TYPE (\\S+) (\\S+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        names.Should().NotBeEmpty();
        foreach (var (name, type) in names)
        {
            text.Should().Contain($"# HELP {name} ");
            name.Should().StartWith("sora_");
            name.EndsWith("_total", StringComparison.Ordinal).Should().Be(type == "counter", $"{name} is a {type}");
        }

        Regex.Matches(text, "[{,]([a-z_]+)=\"").Select(m => m.Groups[1].Value).Distinct().Should().BeSubsetOf(AllowedLabels);
    }

    [Fact]
    public async Task The_API_serves_one_state_checkpoints_history_and_the_sample_video()
    {
        await job.WaitForStepAsync(45, TimeSpan.FromMinutes(3));
        await WaitForAsync(async () => (await Get("api/samples")).GetArrayLength() > 0, "a sample video");

        var ranks = await Get("api/ranks");
        var status = await Get("api/status");
        ranks.GetArrayLength().Should().Be(job.Ranks);
        status.GetProperty("ranks").EnumerateArray().Select(r => r.GetProperty("node").GetString())
            .Should().Equal(ranks.EnumerateArray().Select(r => r.GetProperty("node").GetString()));

        var checkpoints = await Get("api/checkpoints");
        var first = checkpoints.EnumerateArray().First(c => c.GetProperty("stage").GetString() == "dit" && c.GetProperty("step").GetInt64() == 25);
        first.GetProperty("bytes").GetInt64().Should().BeGreaterThan(0);
        first.GetProperty("committedAt").ValueKind.Should().Be(JsonValueKind.String);
        (await Get("api/job")).GetProperty("lastCheckpoint").GetProperty("step").GetInt64().Should().BeGreaterThanOrEqualTo(25);

        var history = (await Get("api/history")).EnumerateArray().Where(h => h.GetProperty("stage").GetString() == "dit").ToArray();
        history.Select(h => h.GetProperty("step").GetInt64()).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        history.Should().Contain(h => h.GetProperty("heldOutLoss").ValueKind == JsonValueKind.Number);

        var sample = (await Get("api/samples"))[0];
        sample.GetProperty("prompt").GetString().Should().Be("a red circle moves right");
        sample.GetProperty("object").GetString().Should().StartWith("run/samples/", "the worker published the video to the job's store and sent only its name; the coordinator reads it from there");
        var video = await job.Client.GetByteArrayAsync(sample.GetProperty("url").GetString()!.TrimStart('/'));
        System.Text.Encoding.ASCII.GetString(video, 4, 4).Should().Be("ftyp", "the sample is an MP4 file");
        (await job.Client.GetAsync("api/samples/7/video")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_login_link_gives_a_session_cookie_once()
    {
        var link = await job.LoginLinkAsync();
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var browser = new HttpClient(handler);
        using var login = await browser.GetAsync(link);
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
        login.Headers.GetValues("Set-Cookie").Single().Should().Contain("httponly").And.Contain("samesite=strict");
        (await browser.GetAsync(job.BaseUrl + "/api/job")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await browser.GetAsync(job.BaseUrl + "/")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var stranger = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        (await stranger.GetAsync(link)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a link works once");
        (await stranger.GetAsync(job.BaseUrl + "/api/job")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await stranger.GetAsync(job.BaseUrl + "/")).StatusCode.Should().Be(HttpStatusCode.OK, "the page itself holds no data");
    }

    [Fact]
    public async Task The_event_stream_sends_updates_as_training_goes_on()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/events");
        using var response = await job.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var versions = new List<long>();
        var clock = Stopwatch.StartNew();
        while (versions.Count < 3 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (line?.StartsWith("data: ", StringComparison.Ordinal) == true)
            {
                versions.Add(JsonDocument.Parse(line[6..]).RootElement.GetProperty("version").GetInt64());
            }
        }

        versions.Should().HaveCount(3).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_rank_slowed_down_is_flagged_a_straggler_and_recovers()
    {
        await job.WaitForStepAsync(5, TimeSpan.FromMinutes(2));
        var pid = WorkerProcessTable.Find(job.Directory, 1) ?? throw new InvalidOperationException("no worker of rank 1");
        using var slow = new CancellationTokenSource();

        // Rank 1 runs a third of the time (stopped 100 ms of every 150): its busy time per step triples while rank 0 waits in communication.
        var throttle = Task.Run(async () =>
        {
            while (!slow.IsCancellationRequested)
            {
                _ = kill(pid, 19);
                await Task.Delay(100);
                _ = kill(pid, 18);
                await Task.Delay(50);
            }
        });
        try
        {
            await WaitForAsync(async () => (await Get("api/ranks"))[1].GetProperty("straggler").GetBoolean(), "rank 1 flagged a straggler");
            (await Get("api/ranks"))[0].GetProperty("straggler").GetBoolean().Should().BeFalse();
            (await Get("api/job")).GetProperty("stragglers").EnumerateArray().Select(r => r.GetInt32()).Should().Equal(1);
            Value(await job.MetricsAsync(), "sora_job_stragglers").Should().Be(1);
        }
        finally
        {
            await slow.CancelAsync();
            await throttle;
            _ = kill(pid, 18);
        }

        await WaitForAsync(async () => !(await Get("api/ranks"))[1].GetProperty("straggler").GetBoolean(), "rank 1 no longer a straggler");
    }

    private async Task<JsonElement> Get(string path) => await job.Client.GetFromJsonAsync<JsonElement>(path, s_json);

    private async Task<string> WaitForMetricsAsync(Func<string, bool> condition)
    {
        var text = "";
        await WaitForAsync(async () => condition(text = await job.MetricsAsync()), "the metrics");
        return text;
    }

    private async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{what}: not within 2 minutes\n{job.Output}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The value of a series named exactly <paramref name="name"/> (any labels), or NaN.</summary>
    private static double Value(string text, string name)
    {
        var match = Regex.Match(text, $"^{name}(\\{{[^}}]*\\}})? (\\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054
    private static extern int kill(int pid, int signal);
#pragma warning restore CA5392, SYSLIB1054
}
