using Parquet.Schema;
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
        using (var reader = ParquetFile.Open(file))
        {
            offset = reader.ChunkMetadata(1, reader.FindField(VideoDatasetSchema.Payload)!).DataPageOffset;
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
        ParquetTestFile.Write(file, new ParquetSchema(new DataField<string>("id", false), new DataField<string>("caption", false)), new[] { "a" }, new[] { "b" });

        var act = () => new VideoShardReader(file).ReadRecords().ToList();

        act.Should().Throw<ParquetFormatException>().Where(e => e.File == file && e.Column == "text_embedding").WithMessage("*column is missing*");
    }

    [Fact]
    public void An_unknown_kind_is_reported_with_its_row()
    {
        using var temp = new TempDirectory();
        var file = temp.File("part-00000.parquet");
        var sample = VideoShardWriterTests.Samples(1)[0];
        ParquetTestFile.Write(
            file,
            VideoDatasetSchema.Schema,
            new[] { sample.Id },
            new[] { sample.Caption },
            new float[]?[] { null },
            new[] { "audio" },
            new[] { 3 },
            new[] { sample.Frames },
            new[] { sample.Height },
            new[] { sample.Width },
            new[] { 8f },
            new[] { "uint8" },
            new[] { sample.Payload },
            new[] { "test" });

        var act = () => new VideoShardReader(file).ReadRecords().ToList();

        act.Should().Throw<ParquetFormatException>().WithMessage($"Parquet file '{file}', row group 0, column 'kind': row 0: 'audio' is neither 'pixels' nor 'latents'");
    }
}
