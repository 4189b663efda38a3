using System.Diagnostics;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Cli.Bench;

/// <summary>
/// <c>sora bench checkpoint</c>: a checkpoint of the bench model (weights, AdamW moments, EMA) saved and loaded
/// through the sharded format, against a plain write and read of the same bytes in the same run, on local disk
/// and on Azurite; and the training loop's blocking time for an async save against a bench step.
/// </summary>
internal sealed class CheckpointBenchmark
{
    public int Repeats { get; init; } = 3;

    public CheckpointBenchmarkReport Run(IProgress<string> progress)
    {
        TorchRuntime.SetThreads(Environment.ProcessorCount);
        RandomState.ManualSeed(0);
        using var model = new VideoDiT(DiTConfig.Preset("bench"), vocabularySize: 64);
        using var optimizer = new AdamW(model.Parameters(), 1e-4);
        progress.Report("one bench training step (for AdamW's state and the step time)");
        var stepSeconds = Step(model, optimizer);
        stepSeconds = Math.Min(stepSeconds, Step(model, optimizer));
        using var scope = Tensor.NewDisposeScope();
        var tensors = new List<ShardedTensorSpec>();
        var parameters = model.NamedParameters().ToArray();
        for (var i = 0; i < parameters.Length; i++)
        {
            var (name, parameter) = parameters[i];
            tensors.Add(ShardedTensorSpec.Whole($"model/{name}", TensorKind.Model, parameter));
            tensors.Add(ShardedTensorSpec.Whole($"ema/{name}", TensorKind.Ema, parameter.Detach().Clone()));
            if (optimizer.GetState(i) is { } state)
            {
                tensors.AddRange(state.Tensors.Select(t => ShardedTensorSpec.Whole($"optim/{name}/{t.Key}", TensorKind.Optimizer, t.Value)));
            }
        }

        var contents = new CheckpointContents(1, 0, 1, "bench", tensors);
        // The training loop's wait: the first save allocates its host buffers; later ones reuse them (as
        // TrainingCheckpointer does once the previous save finished), which is every save but one in a run.
        var pool = new HostBufferPool();
        ShardSnapshot? captured = null;
        var firstBlocking = Time(() => captured = ShardSnapshot.Capture(contents, pool));
        var blocking = Enumerable.Range(0, Repeats).Min(_ =>
        {
            pool.Return(captured!);
            return Time(() => captured = ShardSnapshot.Capture(contents, pool));
        });
        var snapshot = ShardSnapshot.Capture(contents);
        var bytes = snapshot.DataBytes;

        var local = Directory.CreateTempSubdirectory("sora-bench-checkpoint-").FullName;
        try
        {
            progress.Report($"local disk: {bytes / 1e6:F0} MB, checkpoint vs plain write/read");
            var storeRoot = Path.Combine(local, "store");
            var plainPath = Path.Combine(local, "plain.bin");
            var localRow = Measure("local disk", new LocalDirectoryStore(storeRoot), snapshot, bytes, new PlainBaseline(
                () => PlainWrite(plainPath, snapshot),
                () => PlainRead(plainPath),
                PageCache.CanEvict ? () => PageCache.EvictFolder(storeRoot) : null,
                PageCache.CanEvict ? () => PageCache.Evict(plainPath) : null));
            progress.Report("starting Azurite");
            using var azurite = AzuriteProcess.StartAsync(Path.Combine(local, "azurite")).GetAwaiter().GetResult();
            var connection = azurite.ConnectionString;
            var plain = AzureBlobStore.FromConnectionString(connection, "plain", new AzureBlobStoreOptions { BlockSize = int.MaxValue / 2, DownloadRangeSize = int.MaxValue / 2, Parallelism = 1 });
            progress.Report($"Azurite: {bytes / 1e6:F0} MB, checkpoint vs one plain Put Blob/Get Blob");
            var all = Concatenate(snapshot);
            var azureRow = Measure("Azurite", AzureBlobStore.FromConnectionString(connection, "checkpoints"), snapshot, bytes, new PlainBaseline(
                () => Time(() => plain.PutBytesAsync("plain.bin", all).GetAwaiter().GetResult()),
                () => Time(() => plain.ReadAllBytesAsync("plain.bin").GetAwaiter().GetResult()),
                null,
                null));
            return new CheckpointBenchmarkReport(bytes, blocking, stepSeconds, [localRow, azureRow]) { FirstBlockingSeconds = firstBlocking };
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }

    /// <summary>
    /// Repeats, in this order: our save, our load (warm page cache), our load again with the checkpoint's pages
    /// evicted (when the baseline can evict), the plain write, the plain read (warm), the plain read again evicted.
    /// Each figure is the best of the repetitions.
    /// </summary>
    private CheckpointThroughput Measure(string store, ICheckpointStore checkpoints, ShardSnapshot snapshot, long bytes, PlainBaseline plain)
    {
        var writer = new ShardedCheckpointWriter(checkpoints);
        var committer = new CheckpointCommitter(checkpoints);
        var reader = new ShardedCheckpointReader(checkpoints);
        var requests = snapshot.Ranges.Select(r => TensorRequest.Full(r.Name)).ToArray();
        double Load()
        {
            long loadedBytes = 0;
            var seconds = Time(() =>
            {
                using var loaded = reader.LoadAsync(1, requests).GetAwaiter().GetResult();
                loadedBytes = loaded.Tensors.Values.Sum(t => t.ByteCount);
            });
            if (loadedBytes != bytes)
            {
                throw new InvalidOperationException($"{store}: the checkpoint loaded {loadedBytes} bytes of tensors, not the {bytes} saved");
            }

            return seconds;
        }

        var save = double.MaxValue;
        var load = double.MaxValue;
        var coldLoad = double.MaxValue;
        var plainWrite = double.MaxValue;
        var plainRead = double.MaxValue;
        var coldPlainRead = double.MaxValue;
        for (var i = 0; i < Repeats; i++)
        {
            save = Math.Min(save, Time(() =>
            {
                var info = writer.WriteShardAsync(snapshot).GetAwaiter().GetResult();
                committer.CommitAsync(snapshot.Header, [info]).GetAwaiter().GetResult();
            }));
            load = Math.Min(load, Load());
            if (plain.EvictCheckpoint is { } evictCheckpoint)
            {
                evictCheckpoint();
                coldLoad = Math.Min(coldLoad, Load());
            }

            plainWrite = Math.Min(plainWrite, plain.Write());
            plainRead = Math.Min(plainRead, plain.Read());
            if (plain.EvictPlain is { } evictPlain)
            {
                evictPlain();
                coldPlainRead = Math.Min(coldPlainRead, plain.Read());
            }
        }

        var cold = plain.EvictCheckpoint is not null && plain.EvictPlain is not null;
        return new CheckpointThroughput(store, bytes / save / 1e6, bytes / plainWrite / 1e6, bytes / load / 1e6, bytes / plainRead / 1e6,
            cold ? bytes / coldLoad / 1e6 : null, cold ? bytes / coldPlainRead / 1e6 : null);
    }

    /// <summary>The plain write: the same tensor bytes in order through one FileStream (1 MiB buffer) over the previous repetition's file, then fsync, as a plain durable writer does.</summary>
    private static double PlainWrite(string path, ShardSnapshot snapshot) => Time(() =>
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var range in snapshot.Ranges)
        {
            file.Write(range.Data);
        }

        file.Flush(flushToDisk: true);
    });

    /// <summary>The plain read: the file front to back into one reused 1 MiB buffer, nothing kept and nothing checked.</summary>
    private static double PlainRead(string path)
    {
        var buffer = new byte[1 << 20];
        return Time(() =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            while (file.Read(buffer) > 0)
            {
            }
        });
    }

    private static byte[] Concatenate(ShardSnapshot snapshot)
    {
        var all = new byte[snapshot.DataBytes];
        var offset = 0;
        foreach (var range in snapshot.Ranges)
        {
            range.Data.CopyTo(all.AsSpan(offset));
            offset += range.Data.Length;
        }

        return all;
    }

    private static double Step(VideoDiT model, AdamW optimizer)
    {
        using var scope = Tensor.NewDisposeScope();
        var x0 = Tensor.Randn([4, model.Config.LatentChannels, 8, 16, 16]);
        var tokens = Tensor.RandInt(1, 64, [4, model.Config.MaxTextTokens]);
        return Time(() =>
        {
            optimizer.ZeroGrad();
            new RectifiedFlow().Loss(model, x0, tokens).Loss.Backward();
            optimizer.Step();
        });
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}

/// <summary>
/// The plain baseline of one store: write and read the same bytes with no format, hash or commit; and, where the
/// page cache can be dropped (local disk on Linux), how to evict the checkpoint's and the plain file's pages.
/// </summary>
internal sealed record PlainBaseline(Func<double> Write, Func<double> Read, Action? EvictCheckpoint, Action? EvictPlain);

/// <summary>
/// Save and load MB/s through the checkpoint format, and the plain write and read of the same bytes; the cold
/// figures (null where not measured) read with the files' pages evicted from the page cache first.
/// </summary>
internal sealed record CheckpointThroughput(string Store, double SaveMBps, double PlainWriteMBps, double LoadMBps, double PlainReadMBps, double? ColdLoadMBps = null, double? ColdPlainReadMBps = null)
{
    public double SaveRatio => SaveMBps / PlainWriteMBps;

    public double LoadRatio => LoadMBps / PlainReadMBps;

    public double? ColdLoadRatio => ColdLoadMBps / ColdPlainReadMBps;
}

/// <summary>What <c>sora bench checkpoint</c> measured.</summary>
internal sealed record CheckpointBenchmarkReport(long Bytes, double BlockingSeconds, double StepSeconds, IReadOnlyList<CheckpointThroughput> Stores)
{
    /// <summary>The training loop's wait for an async save over a bench step (goal &lt; 5%).</summary>
    public double BlockingShare => BlockingSeconds / StepSeconds;

    /// <summary>The first save's wait, which also allocates the host buffers every later save reuses.</summary>
    public double FirstBlockingSeconds { get; init; }
}
