using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>One sample of an instant query: the series' labels and its value.</summary>
internal sealed record PromSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A Prometheus's HTTP API: instant queries, polling one until it returns what a test awaits, and the scrape targets' state.</summary>
internal sealed class PrometheusApi(string baseUrl, Func<string> diagnostics) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };

    public string BaseUrl { get; } = baseUrl;

    /// <summary>An instant query (<c>/api/v1/query</c>).</summary>
    public async Task<IReadOnlyList<PromSample>> QueryAsync(string promql)
    {
        var body = await _http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query '{promql}' failed: {body}");
        }

        var data = root.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector")
        {
            throw new InvalidOperationException($"query '{promql}' is not an instant vector: {body}");
        }

        return data.GetProperty("result").EnumerateArray()
            .Select(r => new PromSample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>
    /// Polls <paramref name="promql"/> until <paramref name="done"/> holds for its result. The first scrape lands only
    /// after ~5-6 s even at a 1 s interval, so this polls rather than sleeps; past <paramref name="timeout"/> it fails
    /// with the last result, the scrape targets' state and the diagnostics (Prometheus's log).
    /// </summary>
    public async Task<IReadOnlyList<PromSample>> WaitForAsync(string promql, Func<IReadOnlyList<PromSample>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var last = await QueryAsync(promql);
            if (done(last))
            {
                return last;
            }

            if (clock.Elapsed > timeout)
            {
                var result = string.Join("; ", last.Select(s => $"{{{string.Join(",", s.Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {s.Value}"));
                throw new TimeoutException($"'{promql}' did not return what was awaited within {timeout.TotalSeconds:0} s (last: [{result}])\n" +
                                           $"targets: {await TargetsAsync()}\n{diagnostics()}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The active targets' health and last scrape error (<c>/api/v1/targets</c>), for failure messages.</summary>
    public async Task<string> TargetsAsync()
    {
        try
        {
            using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/targets"));
            return string.Join("; ", document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => $"{t.GetProperty("scrapeUrl").GetString()} {t.GetProperty("health").GetString()} '{t.GetProperty("lastError").GetString()}'"));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException)
        {
            return $"(unavailable: {e.Message})";
        }
    }

    /// <summary>Whether Prometheus says it is ready (<c>/-/ready</c>); false while nothing listens.</summary>
    public async Task<bool> IsReadyAsync()
    {
        try
        {
            using var response = await _http.GetAsync("/-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();
}
