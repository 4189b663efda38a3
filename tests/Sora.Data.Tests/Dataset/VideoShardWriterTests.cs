using System.Text.Json;
using Sora.Data.Dataset;
using Sora.Data.Parquet;
using Sora.Data.Synthetic;
using Sora.Data.Tests.Support;

namespace Sora.Data.Tests.Dataset;

public class VideoShardWriterTests
{
    internal static VideoSampleRecord[] Samples(int count, ulong seed = 7)
    {
        var generator = new MovingShapesGenerator(MovingShapesOptions.SmallCpu, seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var record = VideoSampleRecord.FromMovingShapes(generator.Generate(i), seed);
            return i % 3 == 0 ? record with { TextEmbedding = [i, -i * 0.5f, 0.25f] } : record;
        }).ToArray();
    }

    [Fact]
    public void Records_are_cut_into_numbered_shards_under_the_byte_limit_and_read_back_unchanged()
    {
        using var temp = new TempDirectory();
        var samples = Samples(48);
        long whole;
        using (var one = new VideoShardWriter(temp.File("whole"), new VideoShardWriterOptions { RowsPerRowGroup = 4, MaxShardBytes = null }))
        {
            foreach (var sample in samples)
            {
                one.Write(sample);
            }

            whole = one.Complete().Single().Bytes;
        }

        var maxBytes = whole / 3;
        var directory = temp.File("shards");
        IReadOnlyList<VideoShard> shards;
        using (var writer = new VideoShardWriter(directory, new VideoShardWriterOptions { RowsPerRowGroup = 4, MaxShardBytes = maxBytes }))
        {
            foreach (var sample in samples)
            {
                writer.Write(sample);
            }

            shards = writer.Complete();
        }

        shards.Count.Should().BeInRange(3, 5);
        shards.Select(s => Path.GetFileName(s.Path)).Should().Equal(Enumerable.Range(0, shards.Count).Select(i => $"part-{i:D5}.parquet"));
        shards.Should().OnlyContain(s => s.Bytes <= maxBytes || s.RowGroups == 1, "a shard stops before the row group predicted to pass the limit");
        shards.Sum(s => s.Rows).Should().Be(48);
        shards.Select(s => new FileInfo(s.Path).Length).Should().Equal(shards.Select(s => s.Bytes));
        Directory.EnumerateFiles(directory, "*.tmp").Should().BeEmpty();

        var read = new VideoShardReader(directory).ReadRecords().ToList();
        read.Should().HaveCount(48);
        for (var i = 0; i < samples.Length; i++)
        {
            read[i].Should().BeEquivalentTo(samples[i], o => o.Excluding(r => r.Payload).Excluding(r => r.TextEmbedding));
            read[i].Payload.Should().Equal(samples[i].Payload);
            (read[i].TextEmbedding ?? []).Should().Equal(samples[i].TextEmbedding ?? []);
            (read[i].TextEmbedding is null).Should().Be(samples[i].TextEmbedding is null);
        }
    }

    [Fact]
    public void A_row_limit_per_shard_is_kept_exactly()
    {
        using var temp = new TempDirectory();
        using var writer = new VideoShardWriter(temp.Path, new VideoShardWriterOptions { RowsPerRowGroup = 4, MaxShardBytes = null, MaxRowsPerShard = 10 });
        foreach (var sample in Samples(25))
        {
            writer.Write(sample);
        }

        writer.Complete().Select(s => s.Rows).Should().Equal(10, 10, 5);
        writer.Shards.Select(s => s.RowGroups).Should().Equal(3, 3, 2);
    }

    [Fact]
    public void A_directory_that_already_holds_shards_is_refused()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("part-00000.parquet"), [1]);

        var act = () => new VideoShardWriter(temp.Path);

        act.Should().Throw<IOException>().WithMessage("*already holds shards (part-00000.parquet)*");
    }

    [Fact]
    [Trait("Category", "Peers")]
    public void DuckDB_reads_a_shard_with_the_dataset_schema_and_payload_sizes()
    {
        using var temp = new TempDirectory();
        var samples = Samples(20);
        using (var writer = new VideoShardWriter(temp.Path, new VideoShardWriterOptions { RowsPerRowGroup = 8 }))
        {
            foreach (var sample in samples)
            {
                writer.Write(sample);
            }
        }

        var file = temp.File("part-00000.parquet");
        var json = NodePeer.Run("duckdb.mjs", "query",
            $"SELECT count(*) AS n, sum(octet_length(payload)) AS bytes, count(text_embedding) AS embeddings, min(kind) AS kind, max(channels * frames * height * width) AS largest, sum(len(text_embedding)) AS elements FROM read_parquet('{file}')");
        using var result = JsonDocument.Parse(json);
        var row = result.RootElement[0];
        row.GetProperty("n").GetString().Should().Be("20");
        row.GetProperty("bytes").GetString().Should().Be(samples.Sum(s => (long)s.Payload.Length).ToString(System.Globalization.CultureInfo.InvariantCulture));
        row.GetProperty("embeddings").GetString().Should().Be("7");
        row.GetProperty("elements").GetString().Should().Be("21");
        row.GetProperty("kind").GetString().Should().Be("pixels");
        row.GetProperty("largest").GetInt32().Should().Be(samples.Max(s => s.Payload.Length));
    }
}
