using Sora.Checkpoint.Sharded;
using Sora.Distributed.Checkpointing;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.Optim;

namespace Sora.Distributed.Training;

/// <summary>
/// What the trainer puts in a checkpoint and takes back on resume: the model, the optimizer state and the EMA by
/// parameter name and element range (so a checkpoint from N ranks loads on M), every rank's generator state,
/// the data cursor and the step. Names: <c>model/&lt;param&gt;</c>, <c>optim/&lt;param&gt;/&lt;state&gt;</c>, <c>ema/&lt;param&gt;</c>.
/// </summary>
internal static class TrainerCheckpoints
{
    private const string OptimizerSteps = "optimizer_steps";
    private const string EmaUpdates = "ema_updates";

    public static CheckpointContents Contents(long step, TrainingCheckpointer checkpointer, StepParallelism parallel, Optimizer optimizer, ExponentialMovingAverage? ema,
        object data, ProcessGroup? group)
    {
        var rank = group?.Rank ?? 0;
        var averagedNames = parallel.AveragedParameters.Select(p => p.Name).ToArray();
        var shadows = ema?.StateDict();
        var tensors = new List<ShardedTensorSpec>();
        long optimizerSteps = 0;
        foreach (var slot in parallel.CheckpointSlots.Where(s => s.EveryRankWrites || rank == 0))
        {
            tensors.Add(Spec($"model/{slot.Name}", TensorKind.Model, slot, slot.Cut(slot.Source)));
            if (slot.Index < 0)
            {
                continue;
            }

            if (optimizer.GetState(slot.Index) is { } state)
            {
                optimizerSteps = state.Step;
                foreach (var (name, tensor) in state.Tensors)
                {
                    tensors.Add(Spec($"optim/{slot.Name}/{name}", TensorKind.Optimizer, slot, slot.Cut(tensor)));
                }
            }

            // A frozen parameter's average is the parameter itself: only trained ones carry an EMA of their own.
            if (shadows is not null && slot.Source.RequiresGrad)
            {
                tensors.Add(Spec($"ema/{slot.Name}", TensorKind.Ema, slot, slot.Cut(shadows[averagedNames[slot.Index]])));
            }
        }

        var metadata = new Dictionary<string, string>
        {
            [OptimizerSteps] = optimizerSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [EmaUpdates] = (ema?.Updates ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var identity in checkpointer.Identity)
        {
            metadata[identity.Key] = identity.Value;
        }

        return new CheckpointContents(step, rank, group?.WorldSize ?? 1, checkpointer.ConfigHash, tensors,
            new Dictionary<string, byte[]> { ["cpu"] = RandomState.GetState() },
            (data as IResumableBatchSource)?.SaveCursor(), step, metadata);
    }

    /// <summary>Loads what the checkpointer's resume names into this rank's tensors; returns the step it was taken after (0: none).</summary>
    public static long Restore(TrainingCheckpointer checkpointer, StepParallelism parallel, Optimizer optimizer, ExponentialMovingAverage? ema, object data, ProcessGroup? group)
    {
        var slots = parallel.CheckpointSlots;
        var trainable = slots.Where(s => s.Index >= 0 && s.Source.RequiresGrad).ToArray();
        var requests = slots.Select(s => Request($"model/{s.Name}", s))
            .Concat(trainable.SelectMany(s => optimizer.StateNames.Select(name => Request($"optim/{s.Name}/{name}", s))))
            .Concat(ema is null ? [] : trainable.Select(s => Request($"ema/{s.Name}", s)))
            .ToArray();
        using var loaded = checkpointer.Load(requests);
        if (loaded is null)
        {
            return 0;
        }

        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        foreach (var slot in slots)
        {
            slot.Cut(slot.Source).Copy_(loaded.Tensors[$"model/{slot.Name}"]);
        }

        var steps = long.Parse(loaded.Manifest.Metadata[OptimizerSteps], System.Globalization.CultureInfo.InvariantCulture);
        var parameters = parallel.OptimizerParameters.ToArray();
        foreach (var group2 in trainable.GroupBy(s => s.Index))
        {
            var parameter = parameters[group2.Key];
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var name in optimizer.StateNames)
            {
                // Whatever no slot covers (FSDP's padding) is zero, as it was when saved.
                var full = Tensor.Zeros(parameter.Shape, parameter.DType, parameter.Device);
                foreach (var slot in group2)
                {
                    slot.Cut(full).Copy_(loaded.Tensors[$"optim/{slot.Name}/{name}"]);
                }

                state[name] = full;
            }

            optimizer.SetState(group2.Key, new ParameterState(steps, state));
        }

        if (ema is not null)
        {
            var averagedNames = parallel.AveragedParameters.Select(p => p.Name).ToArray();
            var shadows = ema.StateDict();
            foreach (var slot in slots.Where(s => s.Index >= 0))
            {
                var source = slot.Source.RequiresGrad ? loaded.Tensors[$"ema/{slot.Name}"] : loaded.Tensors[$"model/{slot.Name}"];
                slot.Cut(shadows[averagedNames[slot.Index]]).Copy_(source);
            }

            ema.Updates = long.Parse(loaded.Manifest.Metadata[EmaUpdates], System.Globalization.CultureInfo.InvariantCulture);
        }

        // The same world size resumes every rank's own stream; another one takes rank 0's.
        var rank = group?.Rank ?? 0;
        RandomState.SetState(loaded.GeneratorStates(rank < loaded.Manifest.WorldSize ? rank : 0)["cpu"]);
        if (data is IResumableBatchSource resumable && loaded.Manifest.DataCursor is { } cursor)
        {
            resumable.RestoreCursor(cursor);
        }

        return loaded.Step;
    }

    private static ShardedTensorSpec Spec(string name, TensorKind kind, CheckpointSlot slot, Tensor local) =>
        new(name, kind, slot.Shape, slot.DType, slot.Start, slot.End, local);

    private static TensorRequest Request(string name, CheckpointSlot slot) => TensorRequest.Range(name, slot.Start, slot.End);
}
