using System.Text.Json;
using Sora.Data.Parquet;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

/// <summary>
/// Interoperability with real, independent Parquet implementations (DuckDB and hyparquet / hyparquet-writer through
/// Node.js, installed by scripts/bootstrap.sh): files they write read identically here, and files written here read
/// identically there.
/// </summary>
[Trait("Category", "Peers")]
public class ParquetInteropTests
{
    [Theory]
    [InlineData("snappy", CompressionCodec.Snappy)]
    [InlineData("gzip", CompressionCodec.Gzip)]
    [InlineData("zstd", CompressionCodec.Zstd)]
    [InlineData("uncompressed", CompressionCodec.None)]
    public void Files_written_by_DuckDB_read_as_DuckDB_reads_them(string duckCodec, CompressionCodec codec)
    {
        using var temp = new TempDirectory();
        var file = temp.File($"duckdb-{duckCodec}.parquet");
        var duckdbReading = NodePeer.Run("duckdb.mjs", "write", file, duckCodec, "5000", "2048");

        using (var reader = ParquetReader.Open(file))
        {
            reader.RowGroupCount.Should().BeGreaterThan(1, "DuckDB was asked for row groups of 2048 rows");
            reader.RowGroup(0).Columns.Should().OnlyContain(c => c.Codec == codec);
            reader.RowGroup(0).Columns[reader.Schema.Column("label").Index].DictionaryPageOffset.Should().NotBeNull("DuckDB dictionary-encodes a 13-value string column");
            reader.Schema.Column("embedding").MaxRepetitionLevel.Should().Be(1);
        }

        ParquetRows.ShouldMatch(ParquetRows.Read(file), duckdbReading, $"DuckDB {duckCodec} file");
    }

    [Theory]
    [InlineData("snappy")]
    [InlineData("uncompressed")]
    public void Files_DuckDB_writes_as_parquet_v2_with_delta_and_byte_stream_split_encodings_read_as_DuckDB_reads_them(string duckCodec)
    {
        using var temp = new TempDirectory();
        var file = temp.File($"duckdb-v2-{duckCodec}.parquet");
        var duckdbReading = NodePeer.Run("duckdb.mjs", "write", file, duckCodec, "3000", "2048", "V2");

        using (var reader = ParquetReader.Open(file))
        {
            var encodings = reader.Metadata.RowGroups.SelectMany(g => g.Columns).SelectMany(c => c.Encodings).ToHashSet();
            encodings.Should().Contain([ParquetEncoding.DeltaBinaryPacked, ParquetEncoding.ByteStreamSplit, ParquetEncoding.DeltaLengthByteArray]);
        }

        ParquetRows.ShouldMatch(ParquetRows.Read(file), duckdbReading, $"DuckDB v2 {duckCodec} file");
    }

    [Fact]
    public void Files_written_by_hyparquet_writer_read_as_it_wrote_them()
    {
        using var temp = new TempDirectory();
        var file = temp.File("hyparquet.parquet");
        var written = NodePeer.Run("hyparquet.mjs", "write", file, "1000");

        using (var reader = ParquetReader.Open(file))
        {
            reader.RowGroupCount.Should().BeGreaterThan(1);
        }

        ParquetRows.ShouldMatch(ParquetRows.Read(file), written, "hyparquet-writer file");
    }

    [Theory]
    [InlineData(CompressionCodec.None)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Zstd)]
    public void Files_written_here_read_identically_in_DuckDB(CompressionCodec codec)
    {
        using var temp = new TempDirectory();
        var file = temp.File($"ours-{codec}.parquet");
        MixedTable.Write(file, rows: 1500, groupRows: 600, new ParquetWriterOptions { Compression = codec, PageSize = 4096 });

        using var duckdb = JsonDocument.Parse(NodePeer.Run("duckdb.mjs", "read", file));
        ParquetRows.ShouldMatch(JsonNodeOf(duckdb.RootElement.GetProperty("rows").GetRawText()), MixedTable.Expected(1500).ToJsonString(), $"DuckDB reading our {codec} file");

        var chunks = duckdb.RootElement.GetProperty("metadata").EnumerateArray().ToList();
        chunks.Select(c => c.GetProperty("row_group_id").GetString()).Distinct().Should().HaveCount(3);
        chunks.Should().OnlyContain(c => c.GetProperty("compression").GetString() == (codec == CompressionCodec.None ? "UNCOMPRESSED" : codec.ToString().ToUpperInvariant()));
        var i32 = chunks.First(c => c.GetProperty("path_in_schema").GetString() == "i32");
        i32.GetProperty("stats_min_value").GetString().Should().Be("-1000");
        i32.GetProperty("stats_max_value").GetString().Should().Be(((599 * 7) - 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var label = chunks.First(c => c.GetProperty("path_in_schema").GetString() == "label");
        label.GetProperty("encodings").GetString().Should().Contain("RLE_DICTIONARY");
        label.GetProperty("stats_min_value").GetString().Should().Be("word-0");
        chunks.First(c => c.GetProperty("path_in_schema").GetString() == "maybe_i32").GetProperty("stats_null_count").GetString().Should().Be("150");
    }

    [Theory]
    [InlineData(CompressionCodec.None)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Zstd)]
    public void Files_written_here_read_identically_in_hyparquet(CompressionCodec codec)
    {
        using var temp = new TempDirectory();
        var file = temp.File($"ours-{codec}.parquet");
        MixedTable.Write(file, rows: 800, groupRows: 300, new ParquetWriterOptions { Compression = codec, PageSize = 4096 });

        ParquetRows.ShouldMatch(JsonNodeOf(NodePeer.Run("hyparquet.mjs", "read", file)), MixedTable.Expected(800).ToJsonString(), $"hyparquet reading our {codec} file");
    }

    private static System.Text.Json.Nodes.JsonNode JsonNodeOf(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!;
}
