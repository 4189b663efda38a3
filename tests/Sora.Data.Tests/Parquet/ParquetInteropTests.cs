using System.Text.Json;
using Parquet;
using Sora.Data.Dataset;
using Sora.Data.Parquet;
using Sora.Data.Tests.Dataset;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// Interoperability with real, independent Parquet implementations (DuckDB and hyparquet / hyparquet-writer through
/// Node.js, installed by scripts/bootstrap.sh): files they write read identically through <see cref="ParquetFile"/>,
/// and the dataset shards written here (on Parquet.Net) read identically there, with their codecs and statistics.
/// </summary>
[Trait("Category", "Peers")]
public class ParquetInteropTests
{
    [Theory]
    [InlineData("snappy", "SNAPPY", "V1")]
    [InlineData("gzip", "GZIP", "V1")]
    [InlineData("zstd", "ZSTD", "V1")]
    [InlineData("uncompressed", "UNCOMPRESSED", "V1")]
    [InlineData("snappy", "SNAPPY", "V2")]
    public void Files_written_by_DuckDB_read_as_DuckDB_reads_them(string duckCodec, string codec, string version)
    {
        using var temp = new TempDirectory();
        var file = temp.File($"duckdb-{duckCodec}-{version}.parquet");
        var duckdbReading = NodePeer.Run("duckdb.mjs", "write", file, duckCodec, "5000", "2048", version);

        using (var reader = ParquetFile.Open(file))
        {
            reader.RowGroupCount.Should().BeGreaterThan(1, "DuckDB was asked for row groups of 2048 rows");
            reader.Metadata.RowGroups[0].Columns.Should().OnlyContain(c => c.MetaData!.Codec.ToString() == codec);
            reader.FindField("embedding")!.MaxRepetitionLevel.Should().Be(1);
        }

        ParquetRows.ShouldMatch(ParquetRows.Read(file), duckdbReading, $"DuckDB {duckCodec} {version} file");
    }

    [Fact]
    public void Files_written_by_hyparquet_writer_read_as_it_wrote_them()
    {
        using var temp = new TempDirectory();
        var file = temp.File("hyparquet.parquet");
        var written = NodePeer.Run("hyparquet.mjs", "write", file, "1000");

        using (var reader = ParquetFile.Open(file))
        {
            reader.RowGroupCount.Should().BeGreaterThan(1);

            // A known gap of Parquet.Net 6.1: hyparquet-writer's RLE-encoded BOOLEAN column makes it divide by zero.
            // The dataset schema has no boolean column; what matters here is that the failure arrives as our one
            // format exception, naming the file, row group and column.
            var flag = () => reader.ReadColumn(0, reader.FindField("flag")!);
            flag.Should().Throw<ParquetFormatException>().Where(e => e.File == file && e.RowGroup == 0 && e.Column == "flag");
        }

        var rows = ParquetRows.Read(file, skip: "flag");
        var expected = System.Text.Json.Nodes.JsonNode.Parse(written)!.AsArray();
        foreach (var row in expected)
        {
            row!.AsObject().Remove("flag");
        }

        ParquetRows.ShouldMatch(rows, expected.ToJsonString(), "hyparquet-writer file");
    }

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Snappy)]
    [InlineData(CompressionMethod.Gzip)]
    [InlineData(CompressionMethod.Zstd)]
    public void Shards_written_here_read_identically_in_DuckDB_with_their_codec_and_statistics(CompressionMethod codec)
    {
        using var temp = new TempDirectory();
        var (file, records) = WriteShard(temp, codec);

        using var duckdb = JsonDocument.Parse(NodePeer.Run("duckdb.mjs", "read", file));
        ParquetRows.ShouldMatch(System.Text.Json.Nodes.JsonNode.Parse(duckdb.RootElement.GetProperty("rows").GetRawText())!, ParquetRows.Expected(records).ToJsonString(), $"DuckDB reading our {codec} shard");

        var chunks = duckdb.RootElement.GetProperty("metadata").EnumerateArray().ToList();
        chunks.Select(c => c.GetProperty("row_group_id").GetString()).Distinct().Should().HaveCount(3, "20 rows in row groups of 8");
        chunks.Should().OnlyContain(c => c.GetProperty("compression").GetString() == (codec == CompressionMethod.None ? "UNCOMPRESSED" : codec.ToString().ToUpperInvariant()));
        var frames = chunks.First(c => c.GetProperty("path_in_schema").GetString() == "frames");
        frames.GetProperty("stats_min_value").GetString().Should().Be(records.Take(8).Min(r => r.Frames).ToString(System.Globalization.CultureInfo.InvariantCulture));
        frames.GetProperty("stats_max_value").GetString().Should().Be(records.Take(8).Max(r => r.Frames).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var id = chunks.First(c => c.GetProperty("path_in_schema").GetString() == "id");
        id.GetProperty("stats_min_value").GetString().Should().Be(records.Take(8).Select(r => r.Id).Min(StringComparer.Ordinal));
        chunks.First(c => c.GetProperty("path_in_schema").GetString() == "text_embedding, list, element").GetProperty("stats_null_count").GetString()
            .Should().Be(records.Take(8).Count(r => r.TextEmbedding is not { Length: > 0 }).ToString(System.Globalization.CultureInfo.InvariantCulture), "a null or empty list leaves one undefined level");
    }

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Snappy)]
    [InlineData(CompressionMethod.Gzip)]
    [InlineData(CompressionMethod.Zstd)]
    public void Shards_written_here_read_identically_in_hyparquet(CompressionMethod codec)
    {
        using var temp = new TempDirectory();
        var (file, records) = WriteShard(temp, codec);

        ParquetRows.ShouldMatch(System.Text.Json.Nodes.JsonNode.Parse(NodePeer.Run("hyparquet.mjs", "read", file))!, ParquetRows.Expected(records).ToJsonString(), $"hyparquet reading our {codec} shard");
    }

    [Fact]
    public void The_shard_schema_is_the_one_datasets_were_written_with_before_Parquet_Net()
    {
        using var temp = new TempDirectory();
        var (file, _) = WriteShard(temp, CompressionMethod.Snappy);

        var schema = NodePeer.Run("duckdb.mjs", "query", $"SELECT name, type, repetition_type FROM parquet_schema('{file}') ORDER BY column_id OFFSET 1");

        // The layout the hand-written writer produced (the root's name aside): required columns, and an optional 3-level list of required floats.
        ParquetRows.ShouldMatch(System.Text.Json.Nodes.JsonNode.Parse(schema)!, """
            [{"name":"id","type":"BYTE_ARRAY","repetition_type":"REQUIRED"},{"name":"caption","type":"BYTE_ARRAY","repetition_type":"REQUIRED"},
             {"name":"text_embedding","type":null,"repetition_type":"OPTIONAL"},{"name":"list","type":null,"repetition_type":"REPEATED"},{"name":"element","type":"FLOAT","repetition_type":"REQUIRED"},
             {"name":"kind","type":"BYTE_ARRAY","repetition_type":"REQUIRED"},{"name":"channels","type":"INT32","repetition_type":"REQUIRED"},
             {"name":"frames","type":"INT32","repetition_type":"REQUIRED"},{"name":"height","type":"INT32","repetition_type":"REQUIRED"},
             {"name":"width","type":"INT32","repetition_type":"REQUIRED"},{"name":"fps","type":"FLOAT","repetition_type":"REQUIRED"},
             {"name":"dtype","type":"BYTE_ARRAY","repetition_type":"REQUIRED"},{"name":"payload","type":"BYTE_ARRAY","repetition_type":"REQUIRED"},
             {"name":"source","type":"BYTE_ARRAY","repetition_type":"REQUIRED"}]
            """, "parquet_schema of our shard");
    }

    /// <summary>20 records (null, empty and filled embeddings) in one shard of row groups of 8.</summary>
    internal static (string File, VideoSampleRecord[] Records) WriteShard(TempDirectory temp, CompressionMethod codec)
    {
        var records = VideoShardWriterTests.Samples(20).Select((r, i) => i % 5 == 1 ? r with { TextEmbedding = [] } : r).ToArray();
        var directory = temp.File($"shards-{codec}");
        using (var writer = new VideoShardWriter(directory, new VideoShardWriterOptions { RowsPerRowGroup = 8, Compression = codec }))
        {
            foreach (var record in records)
            {
                writer.Write(record);
            }
        }

        return (Path.Combine(directory, "part-00000.parquet"), records);
    }
}
