using System.Text.Json.Nodes;
using Sora.Data.Parquet;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

public class ParquetWriterTests
{
    [Theory]
    [InlineData(CompressionCodec.None)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Zstd)]
    public void Every_type_and_repetition_reads_back_identically_under_each_codec(CompressionCodec codec)
    {
        using var temp = new TempDirectory();
        var file = temp.File("mixed.parquet");
        MixedTable.Write(file, rows: 700, groupRows: 300, new ParquetWriterOptions { Compression = codec, PageSize = 2048 });

        using (var reader = ParquetReader.Open(file))
        {
            reader.RowGroupCount.Should().Be(3);
            reader.NumRows.Should().Be(700);
            reader.RowGroup(0).Columns.Should().OnlyContain(c => c.Codec == codec);
        }

        ParquetRows.ShouldMatch(ParquetRows.Read(file), MixedTable.Expected(700).ToJsonString(), $"{codec} round trip");
    }

    [Fact]
    public void Low_cardinality_strings_are_dictionary_encoded_and_unique_binaries_are_not()
    {
        using var temp = new TempDirectory();
        var file = temp.File("dictionary.parquet");
        MixedTable.Write(file, rows: 500, groupRows: 500, new ParquetWriterOptions());

        using var reader = ParquetReader.Open(file);
        var chunks = reader.RowGroup(0).Columns;
        chunks.Single(c => c.DottedPath == "label").Encodings.Should().Contain(ParquetEncoding.RleDictionary);
        chunks.Single(c => c.DottedPath == "label").DictionaryPageOffset.Should().NotBeNull();
        chunks.Single(c => c.DottedPath == "data").Encodings.Should().NotContain(ParquetEncoding.RleDictionary);
        chunks.Single(c => c.DottedPath == "data").DictionaryPageOffset.Should().BeNull();
    }

    [Fact]
    public void Statistics_hold_min_max_and_null_count_per_chunk()
    {
        using var temp = new TempDirectory();
        var file = temp.File("stats.parquet");
        MixedTable.Write(file, rows: 100, groupRows: 60, new ParquetWriterOptions());

        using var reader = ParquetReader.Open(file);
        ColumnStatisticsOf(reader, 0, "i32").Should().Be((-1000, (59 * 7) - 1000, 0L));
        ColumnStatisticsOf(reader, 1, "i32").Should().Be(((60 * 7) - 1000, (99 * 7) - 1000, 0L));
        var label = reader.RowGroup(0).Columns[reader.Schema.Column("label").Index].Statistics!;
        label.MinValue(PhysicalType.ByteArray, LogicalKind.String).Should().Be("word-0");
        label.MaxValue(PhysicalType.ByteArray, LogicalKind.String).Should().Be("word-9");
        var maybe = reader.RowGroup(0).Columns[reader.Schema.Column("maybe_i32").Index].Statistics!;
        maybe.NullCount.Should().Be(15, "rows 0, 4, ..., 56 of the first 60 are null");
        maybe.MinValue(PhysicalType.Int32).Should().Be(1);
    }

    [Fact]
    public void Reading_one_column_reads_only_its_chunk()
    {
        using var temp = new TempDirectory();
        var file = temp.File("one.parquet");
        MixedTable.Write(file, rows: 50, groupRows: 50, new ParquetWriterOptions());
        var counting = new CountingStream(File.OpenRead(file));
        using var reader = new ParquetReader(counting, file);
        var afterFooter = counting.BytesRead;

        using var buffer = reader.ReadColumn(0, "maybe_text");

        buffer.RowCount.Should().Be(50);
        (counting.BytesRead - afterFooter).Should().Be(reader.RowGroup(0).Columns[reader.Schema.Column("maybe_text").Index].TotalCompressedSize);
    }

    [Fact]
    public void Row_groups_with_mismatched_row_counts_are_refused_naming_the_columns()
    {
        var schema = new ParquetSchema(ParquetField.Int32("a"), ParquetField.Int32("b"));
        using var writer = new ParquetWriter(new MemoryStream(), schema);
        var buffers = writer.CreateBuffers();
        buffers[0].Add(1);
        buffers[0].Add(2);
        buffers[1].Add(3);

        var act = () => writer.WriteRowGroup(buffers);

        act.Should().Throw<ArgumentException>().WithMessage("*'b' has 1 rows where 'a' has 2*");
    }

    [Fact]
    public void Whole_column_arrays_are_written_with_AddRange_and_read_back_as_spans()
    {
        var schema = new ParquetSchema(ParquetField.Int64("step"), ParquetField.Double("loss"), ParquetField.Boolean("kept", optional: true));
        var steps = Enumerable.Range(0, 5000).Select(i => (long)i * 3).ToArray();
        var losses = steps.Select(s => 1.0 / (s + 1)).ToArray();
        var kept = steps.Select(s => s % 2 == 0).ToArray();
        var stream = new MemoryStream();
        using (var writer = new ParquetWriter(stream, schema, new ParquetWriterOptions { Compression = CompressionCodec.Zstd }, leaveOpen: true))
        {
            var buffers = writer.CreateBuffers();
            buffers[0].AddRange<long>(steps);
            buffers[1].AddRange<double>(losses);
            buffers[2].AddRange<bool>(kept);
            writer.WriteRowGroup(buffers);
        }

        stream.Position = 0;
        using var reader = new ParquetReader(stream, "memory");
        using var buffer = new ColumnBuffer();
        reader.ReadColumn(0, reader.Schema.Column("step"), buffer);
        buffer.Int64Values.ToArray().Should().Equal(steps);
        reader.ReadColumn(0, reader.Schema.Column("loss"), buffer);
        buffer.DoubleValues.ToArray().Should().Equal(losses);
        reader.ReadColumn(0, reader.Schema.Column("kept"), buffer);
        buffer.BooleanValues.ToArray().Should().Equal(kept);
        buffer.DefinitionLevels.ToArray().Should().OnlyContain(d => d == 1);
    }

    [Fact]
    public void A_required_column_refuses_a_null()
    {
        using var buffer = new ColumnBuffer(new ParquetSchema(ParquetField.String("id")).Column("id"));

        var act = buffer.AddNull;

        act.Should().Throw<InvalidOperationException>().WithMessage("*'id' is required*");
    }

    private static (object?, object?, long?) ColumnStatisticsOf(ParquetReader reader, int group, string name)
    {
        var column = reader.Schema.Column(name);
        var statistics = reader.RowGroup(group).Columns[column.Index].Statistics!;
        return (statistics.MinValue(column.PhysicalType), statistics.MaxValue(column.PhysicalType), statistics.NullCount);
    }

    /// <summary>Counts the bytes read through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            BytesRead += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
