using Sora.Data.Dataset;
using Sora.Data.Parquet;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Dataset;

public class VideoShardReaderTests
{
    [Fact]
    public void Shapes_read_without_touching_the_payload_column()
    {
        using var temp = new TempDirectory();
        var samples = VideoShardWriterTests.Samples(12);
        using (var writer = new VideoShardWriter(temp.Path, new VideoShardWriterOptions { RowsPerRowGroup = 6 }))
        {
            foreach (var sample in samples)
            {
                writer.Write(sample);
            }
        }

        // Wreck the payload chunk of the second row group: reading shapes must not notice, reading payloads must say where.
        var file = temp.File("part-00000.parquet");
        long offset;
        using (var reader = ParquetReader.Open(file))
        {
            offset = reader.RowGroup(1).Columns[reader.Schema.Column(VideoDatasetSchema.Payload).Index].DataPageOffset;
        }

        var bytes = File.ReadAllBytes(file);
        bytes.AsSpan((int)offset, 8).Fill(0xEE);
        File.WriteAllBytes(file, bytes);

        var shapes = new VideoShardReader(temp.Path).ReadRecords(VideoColumns.Shape).ToList();
        shapes.Select(r => (r.Frames, r.Height, r.Width)).Should().Equal(samples.Select(s => (s.Frames, s.Height, s.Width)));
        shapes.Should().OnlyContain(r => r.Payload.Length == 0 && r.Id.Length == 0);

        var act = () => new VideoShardReader(temp.Path).ReadRecords(VideoColumns.All).ToList();
        act.Should().Throw<ParquetFormatException>().Where(e => e.File == file && e.RowGroup == 1 && e.Column == VideoDatasetSchema.Payload);
    }

    [Fact]
    public void A_file_without_the_dataset_columns_is_refused_naming_the_missing_column()
    {
        using var temp = new TempDirectory();
        var file = temp.File("other.parquet");
        using (var writer = ParquetWriter.Create(file, new ParquetSchema(ParquetField.String("id"), ParquetField.String("caption"))))
        {
            var buffers = writer.CreateBuffers();
            buffers[0].Add("a");
            buffers[1].Add("b");
            writer.WriteRowGroup(buffers);
        }

        var act = () => new VideoShardReader(file).ReadRecords().ToList();

        act.Should().Throw<ParquetFormatException>().Where(e => e.File == file && e.Column == "text_embedding").WithMessage("*column is missing*");
    }

    [Fact]
    public void An_unknown_kind_is_reported_with_its_row()
    {
        using var temp = new TempDirectory();
        var file = temp.File("part-00000.parquet");
        var sample = VideoShardWriterTests.Samples(1)[0];
        using (var writer = ParquetWriter.Create(file, VideoDatasetSchema.Schema))
        {
            var b = writer.CreateBuffers();
            b[0].Add(sample.Id);
            b[1].Add(sample.Caption);
            b[2].AddNull();
            b[3].Add("audio");
            b[4].Add(3);
            b[5].Add(sample.Frames);
            b[6].Add(sample.Height);
            b[7].Add(sample.Width);
            b[8].Add(8f);
            b[9].Add("uint8");
            b[10].Add(sample.Payload);
            b[11].Add("test");
            writer.WriteRowGroup(b);
        }

        var act = () => new VideoShardReader(file).ReadRecords().ToList();

        act.Should().Throw<ParquetFormatException>().WithMessage($"Parquet file '{file}', row group 0, column 'kind': row 0: 'audio' is neither 'pixels' nor 'latents'");
    }
}
