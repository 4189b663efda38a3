using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sora.Data.Parquet;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// A table with every physical type and repetition the library writes (required, optional, list), built as column
/// buffers and, independently, as the JSON rows a peer should read back.
/// </summary>
internal static class MixedTable
{
    public static ParquetSchema Schema { get; } = new(
        ParquetField.Int32("i32"),
        ParquetField.Int64("i64"),
        ParquetField.Float("f32"),
        ParquetField.Double("f64"),
        ParquetField.Boolean("flag"),
        ParquetField.String("label"),
        ParquetField.Binary("data"),
        ParquetField.FixedBinary("fixed", 4),
        ParquetField.List("embedding", ParquetField.Float("element")),
        ParquetField.Int32("maybe_i32", optional: true),
        ParquetField.String("maybe_text", optional: true),
        ParquetField.Double("maybe_f64", optional: true));

    /// <summary>Writes <paramref name="rows"/> rows (starting at row <paramref name="first"/>) in row groups of <paramref name="groupRows"/>.</summary>
    public static void Write(string file, int rows, int groupRows, ParquetWriterOptions options)
    {
        using var writer = ParquetWriter.Create(file, Schema, options);
        for (var start = 0; start < rows; start += groupRows)
        {
            var buffers = writer.CreateBuffers();
            try
            {
                for (var i = start; i < Math.Min(rows, start + groupRows); i++)
                {
                    Fill(buffers, i);
                }

                writer.WriteRowGroup(buffers);
            }
            finally
            {
                foreach (var buffer in buffers)
                {
                    buffer.Dispose();
                }
            }
        }
    }

    public static JsonArray Expected(int rows)
    {
        var table = new JsonArray();
        for (var i = 0; i < rows; i++)
        {
            table.Add(new JsonObject
            {
                ["i32"] = I32(i),
                ["i64"] = I64(i).ToString(CultureInfo.InvariantCulture),
                ["f32"] = (double)F32(i),
                ["f64"] = F64(i),
                ["flag"] = i % 3 == 0,
                ["label"] = Label(i),
                ["data"] = new JsonObject { ["hex"] = Convert.ToHexStringLower(Data(i)) },
                ["fixed"] = new JsonObject { ["hex"] = Convert.ToHexStringLower(Fixed(i)) },
                ["embedding"] = Embedding(i) is { } list ? new JsonArray(list.Select(v => (JsonNode?)(double)v).ToArray()) : null,
                ["maybe_i32"] = i % 4 == 0 ? null : i,
                ["maybe_text"] = i % 6 == 0 ? null : $"opt-{i}",
                ["maybe_f64"] = i % 5 == 2 ? null : i * 0.125,
            });
        }

        return table;
    }

    private static int I32(int i) => (i * 7) - 1000;

    private static long I64(int i) => (i * 1_000_003L) - 5_000_000_000L;

    private static float F32(int i) => i / 3f;

    private static double F64(int i) => (i / 7.0) - 11;

    private static string Label(int i) => $"word-{i % 13}";

    private static byte[] Data(int i) => Encoding.UTF8.GetBytes($"blob-{i}-" + new string('x', i % 17)).Append((byte)(i % 256)).ToArray();

    private static byte[] Fixed(int i) => BitConverter.GetBytes(i * 31);

    private static float[]? Embedding(int i) => i % 5 == 0 ? null : new[] { i * 0.5f, i * -0.25f, 1.5f }[..(i % 4)];

    private static void Fill(ColumnBuffer[] b, int i)
    {
        b[0].Add(I32(i));
        b[1].Add(I64(i));
        b[2].Add(F32(i));
        b[3].Add(F64(i));
        b[4].Add(i % 3 == 0);
        b[5].Add(Label(i));
        b[6].Add(Data(i));
        b[7].Add(Fixed(i));
        if (Embedding(i) is { } embedding)
        {
            b[8].AddList<float>(embedding);
        }
        else
        {
            b[8].AddNull();
        }

        if (i % 4 == 0)
        {
            b[9].AddNull();
        }
        else
        {
            b[9].Add(i);
        }

        if (i % 6 == 0)
        {
            b[10].AddNull();
        }
        else
        {
            b[10].Add($"opt-{i}");
        }

        if (i % 5 == 2)
        {
            b[11].AddNull();
        }
        else
        {
            b[11].Add(i * 0.125);
        }
    }
}
