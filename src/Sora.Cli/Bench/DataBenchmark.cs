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

    public int LoaderSamples { get; init; } = 4096;

    /// <summary>dit-b's batch on an H100.</summary>
    public const int DefaultLoaderBatch = 32;

    /// <summary>Samples per global batch the loader reads.</summary>
    public int LoaderBatch { get; init; } = DefaultLoaderBatch;

    /// <summary>Batches the parallel loader reads together.</summary>
    public int ReadAheadBatches { get; init; } = 16;

    /// <summary>Decode threads of the parallel loader.</summary>
    public int LoaderThreads { get; init; } = Environment.ProcessorCount;

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

        // Before: one batch read at a time, one thread (each sample of a shuffled batch decodes its whole row group).
        var serial = LoaderThroughput(1, 1, Math.Min(LoaderSamples, 1024), progress);
        var oneThread = LoaderThroughput(ReadAheadBatches, 1, LoaderSamples, progress);
        var parallel = LoaderThreads > 1 ? LoaderThroughput(ReadAheadBatches, LoaderThreads, LoaderSamples, progress) : oneThread;
        progress.Report("training step of the bench config: samples/s it consumes");
        var step = new StepBenchmark { Config = DiTConfig.Preset("bench"), Batch = 4, Latent = (8, 16, 16), Steps = 2, Warmup = 1, Threads = Environment.ProcessorCount }.Run();
        return new DataBenchmarkReport(files.Count, onDisk, rows, bytes, seconds, duck.Seconds, DuckDbThreads, serial, oneThread, parallel, step.SamplesPerSecond);
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
                bytes += column.As<ReadOnlyMemory<byte>>(file, group).Sum(b => (long)b.Length);
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
    private LoaderRun LoaderThroughput(int readAheadBatches, int threads, int samples, IProgress<string> progress)
    {
        progress.Report($"loader: samples/s into tensors, read-ahead {readAheadBatches} batch(es), {threads} decode thread(s)");
        var dataset = new ParquetVideoDataset(Dataset);
        var options = new DataLoaderOptions { Seed = 1, GlobalBatchSize = LoaderBatch, PlanBatches = Math.Max(16, readAheadBatches), ReadAheadBatches = readAheadBatches, DecodeThreads = threads };
        using var loader = new DistributedDataLoader<VideoSampleRecord>(dataset, options, rank: 0, worldSize: 1);
        var clock = Stopwatch.StartNew();
        var converting = TimeSpan.Zero;
        var taken = 0;
        while (taken < samples)
        {
            var batch = loader.Next().Samples;
            var converted = Stopwatch.StartNew();
            using var scope = Tensor.NewDisposeScope();
            foreach (var record in batch)
            {
                _ = Tensor.FromBytes(record.Payload, [record.Channels, record.Frames, record.Height, record.Width], ScalarType.UInt8).To(ScalarType.Float32).Div(127.5).Sub(1);
                taken++;
            }

            converting += converted.Elapsed;
        }

        return new LoaderRun(readAheadBatches, threads, taken / clock.Elapsed.TotalSeconds, converting.TotalSeconds / clock.Elapsed.TotalSeconds);
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
    LoaderRun SerialLoader, LoaderRun OneThreadLoader, LoaderRun ParallelLoader, double StepSamplesPerSecond)
{
    /// <summary>What dit-b consumes on one H100: 32 samples per 54 ms step (measured there; this machine has no GPU).</summary>
    public const double DitBH100SamplesPerSecond = 32 / 0.054;

    /// <summary>How far ahead of training the loader must keep (the goal).</summary>
    public const double HeadroomGoal = 10;

    public double OurMBps => PayloadBytes / OurSeconds / 1e6;

    public double DuckDbMBps => PayloadBytes / DuckDbSeconds / 1e6;

    /// <summary>Our payload decode speed over DuckDB's (goal ≥ 1.0).</summary>
    public double Ratio => DuckDbSeconds / OurSeconds;

    public double LoaderSamplesPerSecond => ParallelLoader.SamplesPerSecond;

    /// <summary>How many times faster the loader delivers than a bench step consumes (≥ 1: never the bottleneck).</summary>
    public double LoaderHeadroom => LoaderSamplesPerSecond / StepSamplesPerSecond;

    /// <summary>How many times faster the loader delivers than dit-b consumes on an H100.</summary>
    public double DitBHeadroom => LoaderSamplesPerSecond / DitBH100SamplesPerSecond;

    /// <summary>
    /// Decode threads the loader would need for <see cref="HeadroomGoal"/> × dit-b's consumption, from the measured
    /// one-thread throughput, assuming threads scale linearly (each needs a core of its own).
    /// </summary>
    public int ThreadsForDitBGoal => (int)Math.Ceiling(HeadroomGoal * DitBH100SamplesPerSecond / OneThreadLoader.SamplesPerSecond);
}

/// <summary>One loader measurement: its settings, samples/s into float tensors, and the share of the time spent making tensors.</summary>
internal sealed record LoaderRun(int ReadAheadBatches, int Threads, double SamplesPerSecond, double TensorShare);
