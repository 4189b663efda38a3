using Parquet;
using Parquet.Schema;

namespace Sora.Data.Tests.Support;

/// <summary>Writes small files with Parquet.Net directly, for inputs our writer would refuse to produce.</summary>
internal static class ParquetTestFile
{
    /// <summary>One row group; each column is given as (field, values), in schema order; null values mark a null list (list columns only).</summary>
    public static void Write(string file, ParquetSchema schema, params object[] columns)
    {
        WriteAsync(file, schema, columns).GetAwaiter().GetResult();
    }

    private static async Task WriteAsync(string file, ParquetSchema schema, object[] columns)
    {
        await using var stream = File.Create(file);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var group = writer.CreateRowGroup();
        var fields = schema.DataFields;
        for (var i = 0; i < fields.Length; i++)
        {
            switch (columns[i])
            {
                case string[] strings:
                    await group.WriteAsync(fields[i], strings, null);
                    break;
                case byte[][] binaries:
                    await group.WriteAsync(fields[i], binaries, null);
                    break;
                case int[] ints:
                    await group.WriteAsync<int>(fields[i], ints, null, null, CancellationToken.None);
                    break;
                case float[] floats:
                    await group.WriteAsync<float>(fields[i], floats, null, null, CancellationToken.None);
                    break;
                case float[]?[] lists:
                    var values = lists.Where(l => l is not null).SelectMany(l => l!).ToArray();
                    var definitions = lists.SelectMany(l => l is null ? [0] : l.Length == 0 ? [1] : Enumerable.Repeat(2, l.Length)).ToArray();
                    var repetitions = lists.SelectMany(l => l is null || l.Length == 0 ? [0] : Enumerable.Range(0, l.Length).Select(k => k == 0 ? 0 : 1)).ToArray();
                    await group.WriteAllPartsAsync<float>(fields[i], values, definitions, repetitions, CancellationToken.None);
                    break;
                default:
                    throw new ArgumentException($"column {i}: unsupported values {columns[i]?.GetType()}");
            }
        }
    }
}
