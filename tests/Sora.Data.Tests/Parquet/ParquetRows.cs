using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sora.Data.Parquet;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// A file's rows as JSON in the form the peer scripts print (INT64 as strings, binary as {"hex":...}, lists as arrays),
/// and a comparison of two such tables that treats numbers numerically.
/// </summary>
internal static class ParquetRows
{
    public static JsonArray Read(string file, params string[] fields)
    {
        using var reader = ParquetReader.Open(file);
        var names = fields.Length > 0 ? fields : reader.Schema.Fields.Select(f => f.Name).ToArray();
        var table = new JsonArray();
        for (var group = 0; group < reader.RowGroupCount; group++)
        {
            var rows = Enumerable.Range(0, (int)reader.RowGroup(group).NumRows).Select(_ => new JsonObject()).ToArray();
            foreach (var name in names)
            {
                var column = reader.Schema.Column(name);
                using var buffer = new ColumnBuffer();
                reader.ReadColumn(group, column, buffer);
                var ranges = buffer.GetRows();
                for (var r = 0; r < rows.Length; r++)
                {
                    var range = ranges[r];
                    JsonNode? value;
                    if (range.IsNull)
                    {
                        value = null;
                    }
                    else if (column.MaxRepetitionLevel > 0)
                    {
                        value = new JsonArray(Enumerable.Range(range.Start, range.Count).Select(i => Value(buffer, column, i)).ToArray());
                    }
                    else
                    {
                        value = Value(buffer, column, range.Start);
                    }

                    rows[r][name] = value;
                }
            }

            foreach (var row in rows)
            {
                table.Add(row);
            }
        }

        return table;
    }

    public static JsonNode? Value(ColumnBuffer buffer, ParquetColumn column, int i) => column.PhysicalType switch
    {
        PhysicalType.Int32 => JsonValue.Create(buffer.Int32Values[i]),
        PhysicalType.Int64 => JsonValue.Create(buffer.Int64Values[i].ToString(CultureInfo.InvariantCulture)),
        PhysicalType.Float => JsonValue.Create((double)buffer.FloatValues[i]),
        PhysicalType.Double => JsonValue.Create(buffer.DoubleValues[i]),
        PhysicalType.Boolean => JsonValue.Create(buffer.BooleanValues[i]),
        _ when column.Logical == LogicalKind.String => JsonValue.Create(buffer.GetString(i)),
        _ => new JsonObject { ["hex"] = Convert.ToHexStringLower(buffer.GetBytes(i)) },
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
