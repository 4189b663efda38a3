using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Distributed.Training;

/// <summary>The trainer's state as hooks and callers see it.</summary>
public sealed class TrainerState
{
    internal TrainerState(string name, Module model, Optimizer optimizer, ExponentialMovingAverage? ema)
    {
        Name = name;
        Model = model;
        Optimizer = optimizer;
        Ema = ema;
    }

    public string Name { get; }

    /// <summary>Optimizer steps done.</summary>
    public long Step { get; internal set; }

    public Module Model { get; }

    public Optimizer Optimizer { get; }

    public ExponentialMovingAverage? Ema { get; internal set; }

    /// <summary>Training loss of every step (the mean over its micro-batches).</summary>
    public List<(long Step, double Loss)> LossHistory { get; } = [];

    /// <summary>Held-out loss at each evaluation.</summary>
    public List<(long Step, double Loss)> HeldOutHistory { get; } = [];

    public long SamplesSeen { get; internal set; }

    public TimeSpan Elapsed { get; internal set; }

    /// <summary>The step training stopped after on request (<see cref="TrainingControl"/>), or null when it ran to the end.</summary>
    public long? StoppedAt { get; internal set; }

    /// <summary>Why it stopped: this rank's request, or "requested by another rank".</summary>
    public string? StopReason { get; internal set; }

    /// <summary>On rank 0 of a checkpointed run that stopped: whether the stop step's checkpoint was committed (null otherwise).</summary>
    public bool? StopCheckpointCommitted { get; internal set; }
}
