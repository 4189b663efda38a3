using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Distributed.Training;

/// <summary>What the trainer does differently on one process, with DDP and with FSDP.</summary>
internal abstract class StepParallelism : IDisposable
{
    protected StepParallelism(Module model) => Model = model;

    public Module Model { get; }

    /// <summary>What the optimizer updates (the parameters, or this rank's shards).</summary>
    public abstract IEnumerable<Tensor> OptimizerParameters { get; }

    /// <summary>What the EMA averages (the same tensors the optimizer updates).</summary>
    public abstract IEnumerable<(string Name, Tensor Parameter)> AveragedParameters { get; }

    /// <summary>The tensor ranges this rank checkpoints and restores (see <see cref="CheckpointSlot"/>).</summary>
    public abstract IReadOnlyList<CheckpointSlot> CheckpointSlots { get; }

    /// <summary>Communication a step waited for after backward.</summary>
    public TimeSpan ExposedCommunication { get; protected set; }

    public static StepParallelism Create(Module model, ProcessGroup? group, DataParallelism mode, Func<Module, IEnumerable<Module>>? units,
        ScalarType? computeDType = null)
    {
        CheckMixedPrecision(computeDType, group, mode);

        return group is null ? new Local(model, null)
            : mode == DataParallelism.Ddp ? new Local(model, new DistributedDataParallel(model, group))
            : new Sharded(model, new FullyShardedDataParallel(model, units?.Invoke(model) ?? [], group, computeDType: computeDType));
    }

    /// <summary>Refuses a compute dtype without FSDP over several ranks, naming the job key.</summary>
    public static void CheckMixedPrecision(ScalarType? computeDType, ProcessGroup? group, DataParallelism mode)
    {
        if (computeDType is { } dtype && (group is not { WorldSize: > 1 } || mode != DataParallelism.Fsdp))
        {
            throw new ArgumentException(
                $"train.mixed_precision: {dtype} compute needs FSDP (sora train --nproc-per-node N --parallel fsdp): " +
                "its shards keep the fp32 master weights the optimizer updates");
        }
    }

    /// <summary>Before a micro-batch's forward; <paramref name="last"/> for the step's last one.</summary>
    public abstract void BeforeMicroBatch(bool last);

    /// <summary>After its backward.</summary>
    public abstract void AfterBackward(bool last);

    /// <summary>Clips by the global gradient norm (0: only measures it) and returns the norm before clipping.</summary>
    public abstract double ClipGradients(double maxNorm);

    /// <summary>Every rank calls this together: the model holds its full weights until disposed.</summary>
    public abstract IDisposable FullWeights();

    /// <summary>After the last step, on every rank: leaves an ordinary model (and a full EMA) behind.</summary>
    public virtual ExponentialMovingAverage? Finish(ExponentialMovingAverage? ema) => ema;

    public abstract void Dispose();

    private sealed class Local(Module model, DistributedDataParallel? ddp) : StepParallelism(model)
    {
        private IDisposable? _noSync;

        public override IEnumerable<Tensor> OptimizerParameters => Model.Parameters();

        // Every rank holds the whole model: rank 0 writes it; every rank reads all of it back.
        public override IReadOnlyList<CheckpointSlot> CheckpointSlots => Model.NamedParameters()
            .Select((p, i) => CheckpointSlot.Whole(p.Name, p.Parameter, i)).ToArray();

        public override IEnumerable<(string Name, Tensor Parameter)> AveragedParameters => Model.NamedParameters();

        public override void BeforeMicroBatch(bool last) => _noSync = ddp is not null && !last ? ddp.NoSync() : null;

        public override void AfterBackward(bool last)
        {
            _noSync?.Dispose();
            _noSync = null;
            if (last && ddp is not null)
            {
                ddp.SynchronizeGradients();
                ExposedCommunication = ddp.ExposedCommunication;
            }
        }

        public override double ClipGradients(double maxNorm) => maxNorm > 0
            ? GradientClipping.ClipByGlobalNorm(Model.Parameters(), maxNorm)
            : ForEach.Norm(Model.Parameters().Select(p => p.Grad()).Where(g => g is not null).Select(g => g!).ToArray());

        public override IDisposable FullWeights() => NoScope.Instance;

        public override void Dispose() => ddp?.Dispose();
    }

    private sealed class Sharded(Module model, FullyShardedDataParallel fsdp) : StepParallelism(model)
    {
        public override IEnumerable<Tensor> OptimizerParameters => fsdp.ShardParameters;

        // Each rank writes and reads the parameter ranges its shards hold; the parameters FSDP does not shard
        // (frozen ones) are whole, written by rank 0.
        public override IReadOnlyList<CheckpointSlot> CheckpointSlots
        {
            get
            {
                var shards = fsdp.ShardParameters;
                var sharded = fsdp.ShardLayout()
                    .Select(l => new CheckpointSlot(l.Name, l.Shape, l.DType, l.Start, l.End, l.Unit, shards[l.Unit], true, t => t.Narrow(0, l.Offset, l.End - l.Start)))
                    .ToList();
                sharded.AddRange(Model.NamedParameters().Where(p => !p.Parameter.RequiresGrad)
                    .Select(p => CheckpointSlot.Whole(p.Name, p.Parameter, index: -1)));
                return sharded;
            }
        }

        public override IEnumerable<(string Name, Tensor Parameter)> AveragedParameters => fsdp.NamedShards;

        public override void BeforeMicroBatch(bool last) => fsdp.BeginStep();

        public override void AfterBackward(bool last)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            fsdp.FinishBackward();
            ExposedCommunication = clock.Elapsed;
        }

        public override double ClipGradients(double maxNorm) => fsdp.ClipGradients(maxNorm);

        public override IDisposable FullWeights() => fsdp.SummonFullParameters();

        public override ExponentialMovingAverage? Finish(ExponentialMovingAverage? ema)
        {
            ExponentialMovingAverage? full = null;
            if (ema is not null)
            {
                // The shards' average, gathered into the model, becomes an average of the model's parameters.
                using (ema.UseAveragedWeights())
                using (fsdp.SummonFullParameters())
                {
                    full = new ExponentialMovingAverage(Model.NamedParameters(), ema.Decay) { Updates = ema.Updates };
                }

                ema.Dispose();
            }

            fsdp.Unshard();
            return full;
        }

        public override void Dispose() => fsdp.Dispose();
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}

/// <summary>
/// One tensor range a rank checkpoints: elements [Start, End) of the flattened parameter <see cref="Name"/> (full
/// shape <see cref="Shape"/>), cut by <see cref="Cut"/> from <see cref="Source"/> (the parameter, or the FSDP shard
/// holding it) and, at the same place, from the optimizer state and EMA of optimizer parameter <see cref="Index"/>
/// (−1: the optimizer does not update it).
/// </summary>
internal sealed record CheckpointSlot(string Name, long[] Shape, ScalarType DType, long Start, long End, int Index, Tensor Source, bool EveryRankWrites, Func<Tensor, Tensor> Cut)
{
    public static CheckpointSlot Whole(string name, Tensor parameter, int index) =>
        new(name, parameter.Shape, parameter.DType, 0, parameter.NumElements, index, parameter, false, t => t.Reshape(-1));
}
