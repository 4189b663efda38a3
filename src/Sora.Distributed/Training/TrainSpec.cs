using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Distributed.Training;

/// <summary>
/// What to train, as a record of builders (after torchtitan's TrainSpec): a new model family or
/// objective is a new spec, not a new trainer.
/// </summary>
/// <typeparam name="TBatch">What the data source yields and the loss consumes.</typeparam>
public sealed record TrainSpec<TBatch>
{
    /// <summary>Names the run in logs and metrics ("vae", "dit").</summary>
    public required string Name { get; init; }

    public required Func<Module> BuildModel { get; init; }

    public required Func<IEnumerable<Tensor>, Optimizer> BuildOptimizer { get; init; }

    public required LearningRateSchedule Schedule { get; init; }

    public required Func<IBatchSource<TBatch>> BuildData { get; init; }

    /// <summary>
    /// Data parallelism: rank's share of a global batch (rank, world size) → the part this rank trains on.
    /// Every rank draws the same global batch, so everything random must be drawn for the whole batch
    /// in the data source, not inside <see cref="Loss"/>. Required to train on more than one rank.
    /// </summary>
    public Func<TBatch, int, int, TBatch>? ShareOfBatch { get; init; }

    /// <summary>
    /// Moves this rank's share of a batch to the device the rank trains on (each tensor with <see cref="Tensor.OnDevice"/>:
    /// a host tensor goes to a CUDA device from pinned memory without blocking the host; on the CPU it stays as it is).
    /// Batches are drawn on the host, so every random draw in them stays on the CPU generator and a rank draws the same
    /// numbers on any device. Required to train off the CPU.
    /// </summary>
    public Func<TBatch, Device, TBatch>? ToDevice { get; init; }

    /// <summary>FSDP's units, in forward order (a transformer's blocks); the rest of the model is the root unit.</summary>
    public Func<Module, IEnumerable<Module>>? ShardingUnits { get; init; }

    /// <summary>The objective: the loss of one micro-batch (its tensors live in the step's dispose scope).</summary>
    public required Func<Module, TBatch, StepLoss> Loss { get; init; }

    /// <summary>A deterministic held-out loss of the (EMA, if any) model, run every <see cref="TrainerOptions.EvalEvery"/> steps.</summary>
    public Func<Module, double>? HeldOutLoss { get; init; }

    /// <summary>
    /// Called every <see cref="TrainerOptions.SampleEvery"/> steps and at the end (sample videos, for example), on
    /// rank 0, with the model in eval mode holding the EMA weights (when there is an EMA).
    /// </summary>
    public Action<TrainerState>? OnSample { get; init; }
}

/// <summary>A source of training batches; deterministic under the run's seed.</summary>
public interface IBatchSource<out TBatch>
{
    TBatch Next();
}

/// <summary>A batch source whose position can be saved in a checkpoint and restored for an exact resume.</summary>
public interface IResumableBatchSource
{
    /// <summary>Where the next batch comes from, as JSON.</summary>
    string SaveCursor();

    /// <summary>Continues from a cursor <see cref="SaveCursor"/> returned.</summary>
    void RestoreCursor(string cursor);
}

/// <summary>The loss of one micro-batch and how much data it covered.</summary>
/// <param name="Loss">Scalar to backpropagate.</param>
/// <param name="Samples">Samples in the micro-batch.</param>
/// <param name="Tokens">Tokens (or pixels, for the VAE) in the micro-batch, for throughput.</param>
public sealed record StepLoss(Tensor Loss, long Samples, long Tokens)
{
    /// <summary>The micro-batch's model FLOPs, forward and backward (0: not counted); they give achieved FLOP/s and MFU.</summary>
    public double Flops { get; init; }
}
