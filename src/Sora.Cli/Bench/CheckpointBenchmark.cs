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
        var blocking = Enumerable.Range(0, Repeats).Min(_ => Time(() => ShardSnapshot.Capture(contents)));
        var snapshot = ShardSnapshot.Capture(contents);
        var bytes = snapshot.DataBytes;

        var local = Directory.CreateTempSubdirectory("sora-bench-checkpoint-").FullName;
        try
        {
            progress.Report($"local disk: {bytes / 1e6:F0} MB, checkpoint vs plain write/read");
            var localRow = Measure("local disk", new LocalDirectoryStore(Path.Combine(local, "store")), snapshot, bytes,
                () => PlainFile(Path.Combine(local, "plain.bin"), snapshot));
            progress.Report("starting Azurite");
            using var azurite = AzuriteProcess.StartAsync(Path.Combine(local, "azurite")).GetAwaiter().GetResult();
            var connection = azurite.ConnectionString;
            var plain = AzureBlobStore.FromConnectionString(connection, "plain", new AzureBlobStoreOptions { BlockSize = int.MaxValue / 2, DownloadRangeSize = int.MaxValue / 2, Parallelism = 1 });
            progress.Report($"Azurite: {bytes / 1e6:F0} MB, checkpoint vs one plain Put Blob/Get Blob");
            var azureRow = Measure("Azurite", AzureBlobStore.FromConnectionString(connection, "checkpoints"), snapshot, bytes, () => PlainBlob(plain, snapshot));
            return new CheckpointBenchmarkReport(bytes, blocking, stepSeconds, [localRow, azureRow]);
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }

    private CheckpointThroughput Measure(string store, ICheckpointStore checkpoints, ShardSnapshot snapshot, long bytes, Func<(double Write, double Read)> plain)
    {
        var writer = new ShardedCheckpointWriter(checkpoints);
        var committer = new CheckpointCommitter(checkpoints);
        var reader = new ShardedCheckpointReader(checkpoints);
        var requests = snapshot.Ranges.Select(r => TensorRequest.Full(r.Name)).ToArray();
        var save = double.MaxValue;
        var load = double.MaxValue;
        var plainWrite = double.MaxValue;
        var plainRead = double.MaxValue;
        for (var i = 0; i < Repeats; i++)
        {
            save = Math.Min(save, Time(() =>
            {
                var info = writer.WriteShardAsync(snapshot).GetAwaiter().GetResult();
                committer.CommitAsync(snapshot.Header, [info]).GetAwaiter().GetResult();
            }));
            long loadedBytes = 0;
            load = Math.Min(load, Time(() =>
            {
                using var loaded = reader.LoadAsync(1, requests).GetAwaiter().GetResult();
                loadedBytes = loaded.Tensors.Values.Sum(t => t.ByteCount);
            }));
            if (loadedBytes != bytes)
            {
                throw new InvalidOperationException($"{store}: the checkpoint loaded {loadedBytes} bytes of tensors, not the {bytes} saved");
            }

            var (w, r) = plain();
            plainWrite = Math.Min(plainWrite, w);
            plainRead = Math.Min(plainRead, r);
        }

        return new CheckpointThroughput(store, bytes / save / 1e6, bytes / plainWrite / 1e6, bytes / load / 1e6, bytes / plainRead / 1e6);
    }

    private static (double Write, double Read) PlainFile(string path, ShardSnapshot snapshot)
    {
        var write = Time(() =>
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            foreach (var range in snapshot.Ranges)
            {
                file.Write(range.Data);
            }

            file.Flush(flushToDisk: true);
        });
        var buffer = new byte[1 << 20];
        var read = Time(() =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            while (file.Read(buffer) > 0)
            {
            }
        });
        return (write, read);
    }

    private static (double Write, double Read) PlainBlob(AzureBlobStore store, ShardSnapshot snapshot)
    {
        var all = new byte[snapshot.DataBytes];
        var offset = 0;
        foreach (var range in snapshot.Ranges)
        {
            range.Data.CopyTo(all.AsSpan(offset));
            offset += range.Data.Length;
        }

        var write = Time(() => store.PutBytesAsync("plain.bin", all).GetAwaiter().GetResult());
        var read = Time(() => store.ReadAllBytesAsync("plain.bin").GetAwaiter().GetResult());
        return (write, read);
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

/// <summary>Save and load MB/s through the checkpoint format, and the plain write and read of the same bytes.</summary>
internal sealed record CheckpointThroughput(string Store, double SaveMBps, double PlainWriteMBps, double LoadMBps, double PlainReadMBps)
{
    public double SaveRatio => SaveMBps / PlainWriteMBps;

    public double LoadRatio => LoadMBps / PlainReadMBps;
}

/// <summary>What <c>sora bench checkpoint</c> measured.</summary>
internal sealed record CheckpointBenchmarkReport(long Bytes, double BlockingSeconds, double StepSeconds, IReadOnlyList<CheckpointThroughput> Stores)
{
    /// <summary>The training loop's wait for an async save over a bench step (goal &lt; 5%).</summary>
    public double BlockingShare => BlockingSeconds / StepSeconds;
}
