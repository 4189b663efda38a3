using Sora.Data.Parquet;
using Sora.Data.Parquet.Thrift;

namespace Sora.Data.Tests.Parquet.Thrift;

public class ThriftCompactReaderTests
{
    [Fact]
    public void What_the_writer_writes_the_reader_reads_including_skipped_fields()
    {
        var writer = new ThriftCompactWriter();
        writer.BeginStruct();
        writer.I32Field(1, -123456);
        writer.I64Field(2, long.MinValue);
        writer.StringField(3, "héllo");
        writer.StructField(40); // a long jump in field ids, then an unknown struct to skip
        writer.BoolField(1, true);
        writer.ListField(2, ThriftType.Binary, 20);
        for (var i = 0; i < 20; i++)
        {
            writer.StringElement($"item{i}");
        }

        writer.EndStruct();
        writer.BoolField(41, false);
        writer.EndStruct();

        var reader = new ThriftCompactReader(writer.Written, "test");
        var seen = new List<string>();
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    seen.Add($"i32 {reader.ReadI32(type)}");
                    break;
                case 2:
                    seen.Add($"i64 {reader.ReadI64(type)}");
                    break;
                case 3:
                    seen.Add($"string {reader.ReadString(type)}");
                    break;
                case 41:
                    seen.Add($"bool {reader.ReadBool(type)}");
                    break;
                default:
                    reader.Skip(type);
                    seen.Add($"skipped {id}");
                    break;
            }
        }

        reader.EndStruct(saved);
        reader.Remaining.Should().Be(0);
        seen.Should().Equal("i32 -123456", $"i64 {long.MinValue}", "string héllo", "skipped 40", "bool False");
    }

    [Fact]
    public void A_binary_longer_than_the_data_is_refused()
    {
        byte[] data = [0x18, 0xFF, 0xFF, 0x03, 0x41]; // field 1, binary of 65535 bytes, then one byte

        var act = () =>
        {
            var reader = new ThriftCompactReader(data, "test");
            reader.BeginStruct();
            reader.ReadFieldHeader(out _, out var type);
            reader.ReadBinary(type);
        };

        act.Should().Throw<ParquetFormatException>().WithMessage("corrupt test metadata at byte 4: binary of 65535 bytes in 1 remaining bytes");
    }

    [Fact]
    public void An_over_long_varint_is_refused()
    {
        byte[] data = [0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];

        var act = () =>
        {
            var reader = new ThriftCompactReader(data, "test");
            reader.BeginStruct();
            reader.ReadFieldHeader(out _, out var type);
            reader.ReadI32(type);
        };

        act.Should().Throw<ParquetFormatException>().WithMessage("*longer than 5 bytes*");
    }
}
