using System.Buffers.Binary;
using Parquet;
using Sora.Data.Dataset;
using Sora.Data.Parquet;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// Mutates valid files many ways (seeded bit flips, byte overwrites in the footer and in the pages, truncations) and
/// holds the reader (Parquet.Net behind <see cref="ParquetFile"/>) to one contract: every read either succeeds or
/// throws <see cref="ParquetFormatException"/> naming the file, and the row group and column when the failure is
/// inside a column chunk; none hangs. Parquet.Net alone also throws NullReferenceException, IndexOutOfRangeException
/// and the like on such files: the wrapper must catch every one.
/// </summary>
public class ParquetFuzzTests
{
    private const string FileName = "fuzzed.parquet";
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(CompressionMethod.None, 11)]
    [InlineData(CompressionMethod.Snappy, 12)]
    [InlineData(CompressionMethod.Gzip, 13)]
    [InlineData(CompressionMethod.Zstd, 14)]
    public void Every_mutation_of_a_dataset_shard_reads_or_throws_a_parquet_format_exception(CompressionMethod codec, int seed)
    {
        // 4 codecs x 160 = 640 mutations per run (at least 500, as issue 15 asks).
        using var temp = new TempDirectory();
        var (file, _) = ParquetInteropTests.WriteShard(temp, codec);
        var original = File.ReadAllBytes(file);
        var footerStart = original.Length - 8 - BinaryPrimitives.ReadInt32LittleEndian(original.AsSpan(original.Length - 8));
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        var cases = Cases(160);
        for (var i = 0; i < cases; i++)
        {
            var (bytes, description) = Mutate(original, footerStart, random, i);
            var outcome = ReadEverything(bytes, description, asDataset: true);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        outcomes.Values.Sum().Should().Be(cases);
        outcomes.GetValueOrDefault("rejected").Should().BeGreaterThan(cases / 4, "truncations and most footer mutations must be detected");
    }

    [Theory]
    [Trait("Category", "Peers")]
    [InlineData("uncompressed", 21)]
    [InlineData("snappy", 22)]
    public void Every_mutation_of_a_DuckDB_v2_file_reads_or_throws_a_parquet_format_exception(string codec, int seed)
    {
        // DuckDB's v2 files carry DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT and DELTA_LENGTH_BYTE_ARRAY pages and dictionaries.
        using var temp = new TempDirectory();
        var file = temp.File("v2.parquet");
        NodePeer.Run("duckdb.mjs", "write", file, codec, "300", "100", "V2");
        var original = File.ReadAllBytes(file);
        var footerStart = original.Length - 8 - BinaryPrimitives.ReadInt32LittleEndian(original.AsSpan(original.Length - 8));
        var random = new Random(seed);
        for (var i = 0; i < Cases(100); i++)
        {
            var (bytes, description) = Mutate(original, footerStart, random, i);
            ReadEverything(bytes, description, asDataset: false);
        }
    }

    /// <summary>SORA_PARQUET_FUZZ_CASES raises the count for a longer soak (the default keeps the suite quick).</summary>
    private static int Cases(int normally) =>
        int.TryParse(Environment.GetEnvironmentVariable("SORA_PARQUET_FUZZ_CASES"), out var n) && n > 0 ? n : normally;

    private static (byte[] Bytes, string Description) Mutate(byte[] original, int footerStart, Random random, int i)
    {
        var bytes = (byte[])original.Clone();
        switch (i % 5)
        {
            case 0:
                var bit = random.Next(bytes.Length * 8);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                return (bytes, $"bit {bit} flipped");
            case 1:
                var footerBit = (footerStart * 8) + random.Next((bytes.Length - 8 - footerStart) * 8);
                bytes[footerBit / 8] ^= (byte)(1 << (footerBit % 8));
                return (bytes, $"footer bit {footerBit} flipped");
            case 2:
                var footerByte = footerStart + random.Next(bytes.Length - 8 - footerStart);
                var value = (byte)random.Next(256);
                bytes[footerByte] = value;
                return (bytes, $"footer byte {footerByte} set to {value}");
            case 3:
                var pageByte = 4 + random.Next(footerStart - 4);
                var count = 1 + random.Next(4);
                for (var k = 0; k < count && pageByte + k < footerStart; k++)
                {
                    bytes[pageByte + k] = (byte)random.Next(256);
                }

                return (bytes, $"{count} page bytes from {pageByte} overwritten");
            default:
                var length = random.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length} bytes");
        }
    }

    /// <summary>
    /// Reads every column of every row group (as dataset records, or column by column); "read" or "rejected", or
    /// fails the test naming the mutation.
    /// </summary>
    private static string ReadEverything(byte[] bytes, string description, bool asDataset)
    {
        var opened = false;
        var task = Task.Run(() =>
        {
            try
            {
                using var reader = ParquetFile.Open(new MemoryStream(bytes), FileName);
                opened = true;
                if (asDataset)
                {
                    _ = VideoShardReader.ReadShard(reader).Count();
                    return "read";
                }

                for (var group = 0; group < reader.RowGroupCount; group++)
                {
                    foreach (var field in reader.Schema.Fields)
                    {
                        if (reader.FindField(field.Name) is { } leaf)
                        {
                            reader.ReadColumn(group, leaf);
                        }
                    }
                }

                return "read";
            }
            catch (ParquetFormatException e)
            {
                e.File.Should().Be(FileName, description);
                if (opened && e.Problem.Contains("column is missing", StringComparison.Ordinal) is false && e.Problem.Contains("video dataset needs", StringComparison.Ordinal) is false)
                {
                    e.RowGroup.Should().NotBeNull($"{description}: a failure inside a column chunk names its row group ({e.Message})");
                    e.Column.Should().NotBeNull($"{description}: a failure inside a column chunk names its column ({e.Message})");
                }

                return "rejected";
            }
        });

        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CaseTimeout))
        {
            throw new TimeoutException($"reading a file with {description} did not finish within {CaseTimeout}");
        }

        return task.IsCompletedSuccessfully ? task.Result : throw new InvalidOperationException($"{description}: {task.Exception!.InnerException!.GetType().Name} escaped the reader: {task.Exception.InnerException}", task.Exception.InnerException);
    }
}
