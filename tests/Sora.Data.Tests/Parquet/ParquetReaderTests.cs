using System.Buffers.Binary;
using Sora.Data.Parquet;
using Sora.Data.Parquet.Metadata;
using Sora.Data.Parquet.Thrift;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Parquet;

public class ParquetReaderTests
{
    [Fact]
    public void A_truncated_file_names_the_file_and_says_it_may_be_truncated()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.Snappy);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>()
            .Where(e => e.File == file)
            .WithMessage($"Parquet file '{file}': the file does not end with PAR1*truncated*");
    }

    [Fact]
    public void A_file_that_is_not_parquet_is_refused_by_its_magic()
    {
        using var temp = new TempDirectory();
        var file = temp.File("not.parquet");
        File.WriteAllText(file, "id,caption\n1,a red circle moves left\n");

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>().WithMessage("*does not start with PAR1*");
    }

    [Fact]
    public void A_footer_length_past_the_start_of_the_file_is_refused()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.None);
        var bytes = File.ReadAllBytes(file);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(bytes.Length - 8), bytes.Length);
        File.WriteAllBytes(file, bytes);

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>().WithMessage($"*footer length {bytes.Length} does not fit the file's {bytes.Length} bytes*");
    }

    [Fact]
    public void A_corrupt_page_names_the_file_row_group_and_column()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.Snappy);
        long pageOffset;
        using (var reader = ParquetReader.Open(file))
        {
            pageOffset = reader.RowGroup(1).Columns[reader.Schema.Column("data").Index].DataPageOffset;
        }

        var bytes = File.ReadAllBytes(file);
        bytes.AsSpan((int)pageOffset, 6).Fill(0xFF);
        File.WriteAllBytes(file, bytes);

        using var corrupt = ParquetReader.Open(file);
        using var ok = corrupt.ReadColumn(0, "data");
        var act = () => corrupt.ReadColumn(1, "data");

        act.Should().Throw<ParquetFormatException>()
            .Where(e => e.File == file && e.RowGroup == 1 && e.Column == "data")
            .WithMessage($"Parquet file '{file}', row group 1, column 'data': *");
    }

    [Fact]
    public void Corrupt_compressed_data_is_reported_not_crashed_on()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.Zstd);
        ColumnChunkMetadata chunk;
        using (var reader = ParquetReader.Open(file))
        {
            chunk = reader.RowGroup(0).Columns[reader.Schema.Column("data").Index];
        }

        var bytes = File.ReadAllBytes(file);
        var end = (int)(chunk.StartOffset + chunk.TotalCompressedSize);
        bytes.AsSpan(end - 12, 8).Fill(0x5A);
        File.WriteAllBytes(file, bytes);

        using var corrupt = ParquetReader.Open(file);
        var act = () => corrupt.ReadColumn(0, "data");

        act.Should().Throw<ParquetFormatException>().Where(e => e.RowGroup == 0 && e.Column == "data");
    }

    [Fact]
    public void An_unknown_codec_in_the_metadata_names_the_row_group_and_column()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.None);
        RewriteFooter(file, metadata => Replace(metadata, 1, "i64", chunk => Copy(chunk, codec: (CompressionCodec)42)));

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>()
            .Where(e => e.RowGroup == 1 && e.Column == "i64")
            .WithMessage("*unknown compression codec 42*");
    }

    [Fact]
    public void A_chunk_offset_past_the_data_is_refused_before_reading()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.None);
        RewriteFooter(file, metadata => Replace(metadata, 0, "data", chunk => Copy(chunk, dataPageOffset: 1L << 40)));

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>()
            .Where(e => e.RowGroup == 0 && e.Column == "data")
            .WithMessage("*outside the file's data*");
    }

    [Fact]
    public void A_value_count_that_disagrees_with_the_row_count_is_refused()
    {
        using var temp = new TempDirectory();
        var file = WriteSample(temp, CompressionCodec.None);
        RewriteFooter(file, metadata => Replace(metadata, 0, "i32", chunk => Copy(chunk, numValues: int.MaxValue)));

        var act = () => ParquetReader.Open(file);

        act.Should().Throw<ParquetFormatException>()
            .Where(e => e.RowGroup == 0 && e.Column == "i32")
            .WithMessage($"*num_values {int.MaxValue} does not fit the row group's*");
    }

    [Fact]
    public void A_list_claiming_more_entries_than_bytes_is_refused_without_allocating()
    {
        // A FileMetaData whose schema list claims 2^31-1 elements.
        byte[] footer = [0x29, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00];

        var act = () => FooterCodec.Read(footer, 100);

        act.Should().Throw<ParquetFormatException>().WithMessage("*list of 2147483647 elements in 1 remaining bytes*");
    }

    [Fact]
    public void Deeply_nested_thrift_structs_are_refused()
    {
        var footer = new byte[200];
        footer.AsSpan(0, 100).Fill(0xFC); // an unknown field (id +15) holding a struct, nested again and again

        var act = () => FooterCodec.Read(footer, 100);

        act.Should().Throw<ParquetFormatException>().WithMessage("*nesting deeper than 32*");
    }

    internal static string WriteSample(TempDirectory temp, CompressionCodec codec)
    {
        var file = temp.File($"sample-{codec}.parquet");
        MixedTable.Write(file, rows: 120, groupRows: 60, new ParquetWriterOptions { Compression = codec, PageSize = 1024 });
        return file;
    }

    private static void RewriteFooter(string file, Func<ParquetFileMetadata, ParquetFileMetadata> change)
    {
        var bytes = File.ReadAllBytes(file);
        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 8));
        var dataEnd = bytes.Length - 8 - footerLength;
        var metadata = FooterCodec.Read(bytes.AsSpan(dataEnd, footerLength), dataEnd);
        var writer = new ThriftCompactWriter();
        FooterCodec.Write(writer, change(metadata));
        using var output = File.Create(file);
        output.Write(bytes.AsSpan(0, dataEnd));
        output.Write(writer.Written);
        var tail = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(tail, writer.Written.Length);
        "PAR1"u8.CopyTo(tail.AsSpan(4));
        output.Write(tail);
    }

    private static ParquetFileMetadata Replace(ParquetFileMetadata metadata, int group, string column, Func<ColumnChunkMetadata, ColumnChunkMetadata> change)
    {
        var index = metadata.Schema.Column(column).Index;
        var groups = metadata.RowGroups.Select((g, i) => i != group ? g : new RowGroupMetadata
        {
            NumRows = g.NumRows,
            TotalByteSize = g.TotalByteSize,
            Columns = g.Columns.Select((c, j) => j == index ? change(c) : c).ToList(),
        }).ToList();
        return new ParquetFileMetadata { Schema = metadata.Schema, NumRows = metadata.NumRows, RowGroups = groups, CreatedBy = metadata.CreatedBy };
    }

    private static ColumnChunkMetadata Copy(ColumnChunkMetadata c, CompressionCodec? codec = null, long? dataPageOffset = null, long? numValues = null) => new()
    {
        PathInSchema = c.PathInSchema,
        PhysicalType = c.PhysicalType,
        Encodings = c.Encodings,
        Codec = codec ?? c.Codec,
        NumValues = numValues ?? c.NumValues,
        TotalUncompressedSize = c.TotalUncompressedSize,
        TotalCompressedSize = c.TotalCompressedSize,
        DataPageOffset = dataPageOffset ?? c.DataPageOffset,
        DictionaryPageOffset = c.DictionaryPageOffset,
        Statistics = c.Statistics,
    };
}
