using System.Diagnostics;
using System.Text.Json;
using Sora.Data.Dataset;
using Sora.Data.Loading;
using Sora.Data.Parquet;
using Sora.Data.Synthetic;
using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Cli.Bench;

/// <summary>
/// <c>sora bench data</c>: the Parquet.Net reader (behind ParquetFile) decoding the payload column of a dataset against DuckDB scanning the
/// same files in the same run, and the loader's samples/s against what a training step of the bench config consumes.
/// </summary>
internal sealed class DataBenchmark
{
    public required string Dataset { get; init; }

    public required string RepositoryRoot { get; init; }

    public int DuckDbThreads { get; init; } = 1;

    public int LoaderSamples { get; init; } = 2000;

    public DataBenchmarkReport Run(IProgress<string> progress)
    {
        var files = VideoShardReader.FindShards(Dataset);
        var onDisk = files.Sum(f => new FileInfo(f).Length);

        progress.Report("our reader: payload column, best of 3");
        var (seconds, rows, bytes) = Enumerable.Range(0, 3).Select(_ => ReadPayloads(files)).MinBy(r => r.Seconds);

        progress.Report($"DuckDB ({DuckDbThreads} thread(s)): the same scan, best of 3");
        var duck = DuckDbScan(Path.Combine(Dataset, "*.parquet"));
        if (duck.Rows != rows || duck.Bytes != bytes)
        {
            throw new InvalidOperationException($"DuckDB read {duck.Rows} rows / {duck.Bytes} payload bytes but we read {rows} / {bytes}");
        }

        progress.Report("loader: samples/s into tensors");
        var loader = LoaderThroughput(progress);
        progress.Report("training step of the bench config: samples/s it consumes");
        var step = new StepBenchmark { Config = DiTConfig.Preset("bench"), Batch = 4, Latent = (8, 16, 16), Steps = 2, Warmup = 1, Threads = Environment.ProcessorCount }.Run();
        return new DataBenchmarkReport(files.Count, onDisk, rows, bytes, seconds, duck.Seconds, DuckDbThreads, loader, step.SamplesPerSecond);
    }

    private static (double Seconds, long Rows, long Bytes) ReadPayloads(IReadOnlyList<string> files)
    {
        var clock = Stopwatch.StartNew();
        long rows = 0;
        long bytes = 0;
        foreach (var file in files)
        {
            using var reader = ParquetFile.Open(file);
            var payload = reader.FindField(VideoDatasetSchema.Payload)!;
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                var column = reader.ReadColumn(group, payload);
                rows += column.Rows.Count;
                bytes += column.As<byte[]>(file, group).Sum(b => (long)b.Length);
            }
        }

        return (clock.Elapsed.TotalSeconds, rows, bytes);
    }

    private (double Seconds, long Rows, long Bytes) DuckDbScan(string glob)
    {
        var script = Path.Combine(RepositoryRoot, "tools", "node", "bench", "duckdb-scan.mjs");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(glob);
        start.ArgumentList.Add(DuckDbThreads.ToString());
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("Node.js ('node') is needed for the DuckDB baseline; run scripts/bootstrap.sh", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"the DuckDB baseline failed (exit {process.ExitCode}; run scripts/bootstrap.sh if @duckdb/node-api is missing): {error}");
            }

            using var json = JsonDocument.Parse(output);
            var root = json.RootElement;
            return (root.GetProperty("seconds").GetDouble(), root.GetProperty("rows").GetInt64(), root.GetProperty("bytes").GetInt64());
        }
    }

    /// <summary>What a training rank's data path does: the loader (plan, prefetch, decode) and pixels to a float tensor.</summary>
    private double LoaderThroughput(IProgress<string> progress)
    {
        var dataset = new ParquetVideoDataset(Dataset);
        using var loader = new DistributedDataLoader<VideoSampleRecord>(dataset, new DataLoaderOptions { Seed = 1, GlobalBatchSize = 4 }, rank: 0, worldSize: 1);
        var clock = Stopwatch.StartNew();
        var samples = 0;
        while (samples < LoaderSamples)
        {
            using var scope = Tensor.NewDisposeScope();
            foreach (var record in loader.Next().Samples)
            {
                _ = Tensor.FromBytes(record.Payload, [record.Channels, record.Frames, record.Height, record.Width], ScalarType.UInt8).To(ScalarType.Float32).Div(127.5).Sub(1);
                samples++;
            }
        }

        return samples / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Writes the synthetic moving-shapes dataset with about <paramref name="megabytes"/> MiB of payload.</summary>
    public static long Generate(string directory, long megabytes, string compression, IProgress<string> progress)
    {
        // The default options' average payload per clip, measured on a first small batch of clips.
        var options = new MovingShapesOptions();
        var probe = new MovingShapesGenerator(options, 1);
        var average = Enumerable.Range(0, 64).Average(i => VideoSampleRecord.FromMovingShapes(probe.Generate(i), 1).Payload.LongLength);
        var samples = (long)Math.Ceiling(megabytes * 1024.0 * 1024 / average);
        progress.Report($"generating {samples:N0} clips (~{megabytes} MiB of payload, {compression})");
        var codec = Enum.Parse<Parquet.CompressionMethod>(compression, ignoreCase: true);
        MovingShapesShards.Write(directory, samples, 1, options, new VideoShardWriterOptions { Compression = codec });
        return samples;
    }
}

/// <summary>What <c>sora bench data</c> measured.</summary>
internal sealed record DataBenchmarkReport(
    int Files, long BytesOnDisk, long Rows, long PayloadBytes, double OurSeconds, double DuckDbSeconds, int DuckDbThreads,
    double LoaderSamplesPerSecond, double StepSamplesPerSecond)
{
    public double OurMBps => PayloadBytes / OurSeconds / 1e6;

    public double DuckDbMBps => PayloadBytes / DuckDbSeconds / 1e6;

    /// <summary>Our payload decode speed over DuckDB's (goal ≥ 1.0).</summary>
    public double Ratio => DuckDbSeconds / OurSeconds;

    /// <summary>How many times faster the loader delivers than a bench step consumes (≥ 1: never the bottleneck).</summary>
    public double LoaderHeadroom => LoaderSamplesPerSecond / StepSamplesPerSecond;
}
