using System.Text.Json;
using Sora.Checkout;

namespace Sora.Cluster.Tests.Monitoring;

/// <summary>A PromQL query of the dashboard and where it is: "panel 'Loss' target A" or "variable 'rank'".</summary>
internal sealed record DashboardQuery(string Where, string Expression);

/// <summary>cluster/grafana/sora-training.json, read as JSON: its panels (rows' nested panels too), their queries and its template variables.</summary>
internal sealed class GrafanaDashboard
{
    private GrafanaDashboard(JsonElement root) => Root = root;

    public static string FilePath => SourceCheckout.PathOf("cluster", "grafana", "sora-training.json");

    public JsonElement Root { get; }

    public static GrafanaDashboard Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(FilePath));
        return new GrafanaDashboard(document.RootElement.Clone());
    }

    /// <summary>Every panel that is not a row, including those nested in collapsed rows.</summary>
    public IEnumerable<JsonElement> Panels => Flatten(Root.GetProperty("panels")).Where(p => p.GetProperty("type").GetString() != "row");

    public IEnumerable<JsonElement> Variables =>
        Root.TryGetProperty("templating", out var templating) ? templating.GetProperty("list").EnumerateArray() : [];

    public JsonElement Variable(string name) =>
        Variables.SingleOrDefault(v => v.GetProperty("name").GetString() == name) is { ValueKind: JsonValueKind.Object } variable
            ? variable
            : throw new KeyNotFoundException($"{FilePath}: no template variable '{name}' (has: {string.Join(", ", Variables.Select(v => v.GetProperty("name").GetString()))})");

    /// <summary>Every panel target's <c>expr</c> and every query variable's query.</summary>
    public IEnumerable<DashboardQuery> Queries
    {
        get
        {
            foreach (var panel in Panels)
            {
                if (!panel.TryGetProperty("targets", out var targets))
                {
                    continue;
                }

                foreach (var target in targets.EnumerateArray())
                {
                    if (target.TryGetProperty("expr", out var expr))
                    {
                        yield return new DashboardQuery($"panel '{panel.GetProperty("title").GetString()}' target {target.GetProperty("refId").GetString()}", expr.GetString()!);
                    }
                }
            }

            foreach (var variable in Variables.Where(v => v.GetProperty("type").GetString() == "query"))
            {
                yield return new DashboardQuery($"variable '{variable.GetProperty("name").GetString()}'", VariableQuery(variable));
            }
        }
    }

    /// <summary>A query variable's PromQL: Grafana stores it as a string or as an object with a <c>query</c>.</summary>
    public static string VariableQuery(JsonElement variable)
    {
        var query = variable.GetProperty("query");
        return query.ValueKind == JsonValueKind.String ? query.GetString()! : query.GetProperty("query").GetString()!;
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement panels)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in Flatten(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}
