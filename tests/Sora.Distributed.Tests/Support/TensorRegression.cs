using System.Globalization;
using Sora.Checkpoint.Stores;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Parallel;
using Sora.Distributed.Tests.Parallel;
using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Distributed.Tests.Support;

/// <summary>
/// A regression trained the way the job's stages train: batches of tensors drawn on the host (with noise from the CPU
/// generator, and a cursor to resume from), each rank's share moved by the spec's <see cref="TrainSpec{TBatch}.ToDevice"/>.
/// </summary>
internal static class TensorRegression
{
    public const string Name = "regression";

    /// <param name="moved">Told of every batch the trainer moves and where to.</param>
    /// <param name="noise">Add noise from the global generator to the inputs (not for in-process ranks, which share that generator).</param>
    public static TrainSpec<RegressionBatch> Spec(Action<RegressionBatch, Device>? moved = null, bool noise = true) => new()
    {
        Name = Name,

        // Ranks build their models on parallel threads: one at a time through the global generator.
        BuildModel = () =>
        {
            lock (typeof(RandomState))
            {
                RandomState.ManualSeed(7);
                return new Linear(RegressionBatches.Inputs, RegressionBatches.Targets);
            }
        },
        BuildOptimizer = parameters => new AdamW(parameters, 0.02),
        Schedule = new LearningRateSchedule(0.02, 2, 100),
        BuildData = () => new Batches(noise),
        ShareOfBatch = (batch, rank, worldSize) => new RegressionBatch(BatchShare.Of(batch.X, rank, worldSize), BatchShare.Of(batch.Y, rank, worldSize)),
        ToDevice = (batch, device) =>
        {
            moved?.Invoke(batch, device);
            return new RegressionBatch(batch.X.OnDevice(device), batch.Y.OnDevice(device));
        },
        Loss = (model, batch) => new StepLoss(Functional.MseLoss(((Linear)model).Forward(batch.X), batch.Y), batch.X.Size(0), batch.X.Size(0)),
    };

    /// <summary>The checkpoints' folder in a store (the DiT stage's).</summary>
    public const string CheckpointRoot = "dit/checkpoints";

    /// <summary>
    /// Trains to <paramref name="steps"/> on <paramref name="device"/> with an EMA and a checkpoint every 3 steps in
    /// <paramref name="directory"/> (resuming from <paramref name="resume"/>, a step or null), and returns the final weights.
    /// </summary>
    public static float[] TrainWithCheckpoints(Device device, string directory, string? resume, long steps)
    {
        using var checkpointer = new TrainingCheckpointer(new LocalDirectoryStore(directory), CheckpointRoot, every: 3, configHash: Name, resume: resume);
        var state = new Trainer<RegressionBatch>(Spec(), new TrainerOptions { Steps = steps, EmaDecay = 0.9 }, checkpointer: checkpointer, device: device).Run();
        using var model = state.Model;
        using var optimizer = state.Optimizer;
        using var ema = state.Ema;
        return Weights(model);
    }

    /// <summary>The trained weight and bias, on the host.</summary>
    public static float[] Weights(Module model) => model.Parameters().SelectMany(p => p.To(Device.Cpu).ToArray<float>()).ToArray();

    public sealed record RegressionBatch(Tensor X, Tensor Y);

    private sealed class Batches(bool noise) : IBatchSource<RegressionBatch>, IResumableBatchSource
    {
        private long _next;

        public RegressionBatch Next()
        {
            var (x, y) = RegressionBatches.Batch(seed: 800UL + (ulong)_next++);
            var inputs = Tensor.FromArray(x, RegressionBatches.GlobalBatch, RegressionBatches.Inputs);
            if (noise)
            {
                inputs = inputs.Add(Tensor.Randn([RegressionBatches.GlobalBatch, RegressionBatches.Inputs]).Mul(0.05));
            }

            return new RegressionBatch(inputs, Tensor.FromArray(y, RegressionBatches.GlobalBatch, RegressionBatches.Targets));
        }

        public string SaveCursor() => string.Create(CultureInfo.InvariantCulture, $"{{\"next\":{_next}}}");

        public void RestoreCursor(string cursor)
        {
            using var json = System.Text.Json.JsonDocument.Parse(cursor);
            _next = json.RootElement.GetProperty("next").GetInt64();
        }
    }
}
