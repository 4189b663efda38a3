using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sora.Data.Dataset;
using Sora.Data.Parquet;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// A file's rows as JSON in the form the peer scripts print (INT64 as strings, binary as {"hex":...}, lists as arrays),
/// read through <see cref="ParquetFile"/>, and a comparison of two such tables that treats numbers numerically.
/// </summary>
internal static class ParquetRows
{
    public static JsonArray Read(string file, string? skip = null)
    {
        using var reader = ParquetFile.Open(file);
        var table = new JsonArray();
        for (var group = 0; group < reader.RowGroupCount; group++)
        {
            var rows = Enumerable.Range(0, (int)reader.RowGroupRows[group]).Select(_ => new JsonObject()).ToArray();
            foreach (var field in reader.Schema.Fields.Where(f => f.Name != skip))
            {
                var leaf = reader.FindField(field.Name) ?? throw new InvalidOperationException($"{field.Name} has no leaf");
                var column = reader.ReadColumn(group, leaf);
                for (var r = 0; r < rows.Length; r++)
                {
                    var range = column.Rows[r];
                    rows[r][field.Name] = range.IsNull ? null
                        : leaf.MaxRepetitionLevel > 0 ? new JsonArray(Enumerable.Range(range.Start, range.Count).Select(i => Value(column.Values, i)).ToArray())
                        : Value(column.Values, range.Start);
                }
            }

            foreach (var row in rows)
            {
                table.Add(row);
            }
        }

        return table;
    }

    /// <summary>The rows a peer should read from shards written with these records.</summary>
    public static JsonArray Expected(IEnumerable<VideoSampleRecord> records) =>
    [
        .. records.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Id,
            ["caption"] = r.Caption,
            ["text_embedding"] = r.TextEmbedding is { } e ? new JsonArray(e.Select(v => (JsonNode?)(double)v).ToArray()) : null,
            ["kind"] = r.Kind.ToString().ToLowerInvariant(),
            ["channels"] = r.Channels,
            ["frames"] = r.Frames,
            ["height"] = r.Height,
            ["width"] = r.Width,
            ["fps"] = (double)r.Fps,
            ["dtype"] = r.DType,
            ["payload"] = new JsonObject { ["hex"] = Convert.ToHexStringLower(r.Payload) },
            ["source"] = r.Source,
        }),
    ];

    private static JsonNode? Value(Array values, int i) => values switch
    {
        int[] v => JsonValue.Create(v[i]),
        long[] v => JsonValue.Create(v[i].ToString(CultureInfo.InvariantCulture)),
        float[] v => JsonValue.Create((double)v[i]),
        double[] v => JsonValue.Create(v[i]),
        bool[] v => JsonValue.Create(v[i]),
        string[] v => JsonValue.Create(v[i]),
        ReadOnlyMemory<byte>[] v => new JsonObject { ["hex"] = Convert.ToHexStringLower(v[i].Span) },
        _ => throw new NotSupportedException(values.GetType().Name),
    };

    /// <summary>Asserts two tables hold the same rows, naming the first differing row and field.</summary>
    public static void ShouldMatch(JsonNode actual, string expectedJson, string because)
    {
        using var expected = JsonDocument.Parse(expectedJson);
        using var ours = JsonDocument.Parse(actual.ToJsonString());
        Compare(ours.RootElement, expected.RootElement, "$", because);
    }

    private static void Compare(JsonElement actual, JsonElement expected, string path, string because)
    {
        if (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Number)
        {
            actual.GetDouble().Should().Be(expected.GetDouble(), $"{path} ({because})");
            return;
        }

        actual.ValueKind.Should().Be(expected.ValueKind, $"{path} is {expected} in the peer's reading and {actual} in ours ({because})");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Array:
                actual.GetArrayLength().Should().Be(expected.GetArrayLength(), $"{path} length ({because})");
                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    Compare(actual[i], expected[i], $"{path}[{i}]", because);
                }

                break;
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).ToList();
                actual.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(names, $"{path} fields ({because})");
                foreach (var name in names)
                {
                    Compare(actual.GetProperty(name), expected.GetProperty(name), $"{path}.{name}", because);
                }

                break;
            default:
                actual.ToString().Should().Be(expected.ToString(), $"{path} ({because})");
                break;
        }
    }
}
