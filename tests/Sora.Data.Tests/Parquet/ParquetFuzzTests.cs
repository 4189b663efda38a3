using System.Buffers.Binary;
using Sora.Data.Parquet;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// Mutates valid files many ways (seeded bit flips, byte overwrites in the footer and in the pages, truncations) and
/// holds the reader to one contract: every read either succeeds or throws <see cref="ParquetFormatException"/>, and
/// none hangs.
/// </summary>
public class ParquetFuzzTests
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(CompressionCodec.None, 11)]
    [InlineData(CompressionCodec.Snappy, 12)]
    [InlineData(CompressionCodec.Gzip, 13)]
    [InlineData(CompressionCodec.Zstd, 14)]
    public void Every_mutation_reads_or_throws_a_parquet_format_exception(CompressionCodec codec, int seed)
    {
        using var temp = new TempDirectory();
        var original = File.ReadAllBytes(ParquetReaderTests.WriteSample(temp, codec));
        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(original.AsSpan(original.Length - 8));
        var footerStart = original.Length - 8 - footerLength;
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        var cases = Cases(160);
        for (var i = 0; i < cases; i++)
        {
            var (bytes, description) = Mutate(original, footerStart, random, i);
            var outcome = ReadEverything(bytes, description);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        outcomes.Values.Sum().Should().Be(cases);
        outcomes.GetValueOrDefault("rejected").Should().BeGreaterThan(cases / 4, "most mutations of the footer and page headers must be detected");
    }

    [Theory]
    [Trait("Category", "Peers")]
    [InlineData("uncompressed", 21)]
    [InlineData("snappy", 22)]
    public void Every_mutation_of_a_DuckDB_v2_file_reads_or_throws_a_parquet_format_exception(string codec, int seed)
    {
        // DuckDB's v2 files carry the encodings this library cannot write: DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, DELTA_LENGTH_BYTE_ARRAY.
        using var temp = new TempDirectory();
        var file = temp.File("v2.parquet");
        NodePeer.Run("duckdb.mjs", "write", file, codec, "300", "100", "V2");
        var original = File.ReadAllBytes(file);
        var footerStart = original.Length - 8 - BinaryPrimitives.ReadInt32LittleEndian(original.AsSpan(original.Length - 8));
        var random = new Random(seed);
        for (var i = 0; i < Cases(100); i++)
        {
            var (bytes, description) = Mutate(original, footerStart, random, i);
            ReadEverything(bytes, description);
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

    /// <summary>Reads every column of every row group; "read" or "rejected", or fails the test naming the mutation.</summary>
    private static string ReadEverything(byte[] bytes, string description)
    {
        var task = Task.Run(() =>
        {
            try
            {
                using var reader = new ParquetReader(new MemoryStream(bytes), "fuzzed.parquet");
                using var buffer = new ColumnBuffer();
                for (var group = 0; group < reader.RowGroupCount; group++)
                {
                    foreach (var column in reader.Schema.Columns)
                    {
                        reader.ReadColumn(group, column, buffer);
                        if (column.MaxRepetitionLevel <= 1)
                        {
                            buffer.GetRows();
                        }
                    }
                }

                return "read";
            }
            catch (ParquetFormatException)
            {
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
