using System.Diagnostics;
using Sora.Checkpoint.Sharded;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.Distributed;

namespace Sora.Distributed.Training;

/// <summary>
/// The training loop composed from a <see cref="TrainSpec{TBatch}"/>: per step, the scheduled learning
/// rate, gradient accumulation over micro-batches, global-norm clipping, the optimizer, the EMA, metrics,
/// progress, periodic held-out loss and samples. Every step runs inside a dispose scope.
/// Given a process group of more than one rank it trains data-parallel, with DDP or FSDP: each rank takes
/// its share of every global batch, gradients are averaged across ranks during backward, and only rank 0
/// evaluates and samples (with the EMA weights in the model, gathered in full under FSDP). The reported
/// loss and throughput are those of the global batch. A stop asked through <see cref="TrainingControl"/> on any
/// rank travels with the step's loss all-reduce, so every rank stops after the same step, checkpointed.
/// </summary>
public sealed class Trainer<TBatch>
{
    private readonly TrainSpec<TBatch> _spec;
    private readonly TrainerOptions _options;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly ProcessGroup? _group;
    private readonly DataParallelism _parallelism;
    private readonly TrainingCheckpointer? _checkpointer;
    private readonly TrainingControl? _control;
    private readonly Device _device;

    /// <param name="spec">What to train.</param>
    /// <param name="options">How long and how.</param>
    /// <param name="progress">Told of every step.</param>
    /// <param name="group">The ranks training together (null or one rank: this process alone).</param>
    /// <param name="parallelism">DDP or FSDP across the group.</param>
    /// <param name="checkpointer">Saves and resumes the stage (null: no checkpoints).</param>
    /// <param name="control">A stop asked from outside.</param>
    /// <param name="device">Where the model, optimizer state, EMA and batches live (the rank's <c>DevicePlacement</c>; default the CPU).</param>
    public Trainer(TrainSpec<TBatch> spec, TrainerOptions options, IProgress<TrainingProgress>? progress = null, ProcessGroup? group = null,
        DataParallelism parallelism = DataParallelism.Ddp, TrainingCheckpointer? checkpointer = null, TrainingControl? control = null, Device? device = null)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate(spec.Name);
        _spec.Schedule.Validate(spec.Name);
        _progress = progress;
        _group = group is { WorldSize: > 1 } ? group : null;
        _parallelism = parallelism;
        _checkpointer = checkpointer;
        _control = control;
        if (_group is not null && spec.ShareOfBatch is null)
        {
            throw new ArgumentException($"{spec.Name}: training on {_group.WorldSize} ranks needs the spec's ShareOfBatch");
        }

        _device = device ?? Device.Cpu;
        if (_device.Type != DeviceType.Cpu && spec.ToDevice is null)
        {
            throw new ArgumentException($"{spec.Name}: training on {_device} needs the spec's ToDevice (its batches are drawn on the host)");
        }
    }

    private bool IsRankZero => _group is null || _group.Rank == 0;

    /// <summary>
    /// Builds the model, optimizer and data from the spec and trains for the configured steps, or until a stop is
    /// agreed (<see cref="TrainerState.StoppedAt"/>): then the step's checkpoint is saved and waited for first.
    /// </summary>
    /// <returns>The final state; the caller owns (and disposes) its model, optimizer and EMA.</returns>
    public TrainerState Run(CancellationToken cancellation = default)
    {
        var model = _spec.BuildModel();

        // On the device before DDP broadcasts it and FSDP flattens it: their buffers follow the parameters.
        model.To(_device);
        using var parallel = StepParallelism.Create(model, _group, _parallelism, _spec.ShardingUnits, _options.ComputeDType);
        var optimizer = _spec.BuildOptimizer(parallel.OptimizerParameters);
        var ema = _options.EmaDecay is { } decay ? new ExponentialMovingAverage(parallel.AveragedParameters, decay) : null;
        var state = new TrainerState(_spec.Name, model, optimizer, ema);
        var data = _spec.BuildData();
        using var metrics = new TrainingMetrics(_spec.Name);
        var clock = Stopwatch.StartNew();
        var window = new Queue<(double Loss, long Samples, double Seconds)>();
        double? heldOut = null;
        model.Train();
        var firstStep = 1L;
        if (_checkpointer is not null)
        {
            firstStep = TrainerCheckpoints.Restore(_checkpointer, parallel, optimizer, ema, data, _group) + 1;
            state.Step = firstStep - 1;
        }

        for (var step = firstStep; step <= _options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var stepClock = Stopwatch.StartNew();
            var lr = _spec.Schedule.At(step);
            optimizer.LearningRate = lr;
            optimizer.ZeroGrad();
            double loss = 0;
            long samples = 0;
            long tokens = 0;
            double flops = 0;
            var dataTime = TimeSpan.Zero;
            var computeClock = new Stopwatch();
            for (var micro = 0; micro < _options.GradientAccumulation; micro++)
            {
                using var scope = Tensor.NewDisposeScope();
                var dataClock = Stopwatch.StartNew();
                var batch = data.Next();
                if (_group is not null)
                {
                    batch = _spec.ShareOfBatch!(batch, _group.Rank, _group.WorldSize);
                }

                if (_spec.ToDevice is { } toDevice)
                {
                    batch = toDevice(batch, _device);
                }

                dataTime += dataClock.Elapsed;
                computeClock.Start();

                // Gradient accumulation: with DDP only the last micro-batch's backward reduces across ranks.
                var lastMicro = micro == _options.GradientAccumulation - 1;
                parallel.BeforeMicroBatch(lastMicro);
                var result = _spec.Loss(model, batch);
                var value = result.Loss.ItemDouble();
                if (!double.IsFinite(value))
                {
                    metrics.RecordNonFinite();
                    throw new TrainingDivergedException($"{_spec.Name}: the loss is {value} at step {step} (micro-batch {micro}); lower the learning rate or check the data");
                }

                result.Loss.Div(_options.GradientAccumulation).Backward();
                parallel.AfterBackward(lastMicro);
                computeClock.Stop();
                loss += value / _options.GradientAccumulation;
                samples += result.Samples;
                tokens += result.Tokens;
                flops += result.Flops;
            }

            // Communication not hidden behind backward: the gradients' last wait and the step's small all-reduce of totals
            // (where a rank also waits for the slowest one).
            var totalsClock = Stopwatch.StartNew();
            (loss, samples, tokens, var stopRequested) = GlobalTotals(loss, samples, tokens, _control?.IsStopRequested ?? false);
            var exposed = parallel.ExposedCommunication + totalsClock.Elapsed;
            if (_group is not null)
            {
                metrics.RecordExposedCommunication(exposed);
            }

            // A stop agreed at the last step changes nothing: the run completes.
            var stop = stopRequested && step < _options.Steps;

            var optimizerClock = Stopwatch.StartNew();
            double gradientNorm;
            using (Tensor.NewDisposeScope())
            {
                gradientNorm = parallel.ClipGradients(_options.GradientClip);
            }

            if (!double.IsFinite(gradientNorm))
            {
                metrics.RecordNonFinite();
                throw new TrainingDivergedException($"{_spec.Name}: the gradient norm is {gradientNorm} at step {step}; lower the learning rate");
            }

            optimizer.Step();
            ema?.Update();
            var optimizerTime = optimizerClock.Elapsed;
            // The last step is always saved: its commit marks the stage as ended (a relaunch finds it complete).
            if (_checkpointer is not null && (_checkpointer.IsDue(step) || stop || step == _options.Steps))
            {
                using (Tensor.NewDisposeScope())
                {
                    _checkpointer.Save(TrainerCheckpoints.Contents(step, _checkpointer, parallel, optimizer, ema, data, _group));
                }

                metrics.RecordCheckpointBlocking(_checkpointer.LastBlocking);
            }

            var seconds = stepClock.Elapsed.TotalSeconds;
            state.Step = step;
            state.SamplesSeen += samples;
            state.Elapsed = clock.Elapsed;
            state.LossHistory.Add((step, loss));
            metrics.RecordFlops(flops);
            if (_device.Type == DeviceType.Cuda)
            {
                metrics.RecordDeviceMemory(TorchRuntime.CudaMemoryOf(Math.Max(_device.Index, 0)).Reserved);
            }

            metrics.RecordPhases(dataTime, computeClock.Elapsed - (_group is null ? TimeSpan.Zero : parallel.ExposedCommunication), optimizerTime);
            metrics.RecordStep(loss, gradientNorm, lr, seconds, samples, tokens);
            window.Enqueue((loss, samples, seconds));
            if (window.Count > _options.LossWindow)
            {
                window.Dequeue();
            }

            var last = step == _options.Steps;
            var evaluate = !stop && _spec.HeldOutLoss is not null && (last || (_options.EvalEvery > 0 && step % _options.EvalEvery == 0));
            var sample = !stop && _spec.OnSample is not null && (last || (_options.SampleEvery > 0 && step % _options.SampleEvery == 0));
            if (evaluate || sample)
            {
                // Every rank enters (FSDP gathers the weights collectively); rank 0 evaluates and samples.
                using var weights = EvaluationWeights(parallel, ema);
                if (IsRankZero && evaluate)
                {
                    using var scope = Tensor.NewDisposeScope();
                    using var noGrad = Tensor.NoGrad();
                    heldOut = _spec.HeldOutLoss!(model);
                    state.HeldOutHistory.Add((step, heldOut.Value));
                    metrics.RecordHeldOut(heldOut.Value);
                }

                if (IsRankZero && sample)
                {
                    _spec.OnSample!(state);
                }
            }

            var windowSeconds = window.Sum(w => w.Seconds);
            var perStep = clock.Elapsed.TotalSeconds / (step - firstStep + 1);
            _progress?.Report(new TrainingProgress(
                _spec.Name, step, _options.Steps, window.Average(w => w.Loss), lr, gradientNorm,
                window.Sum(w => w.Samples) / Math.Max(windowSeconds, 1e-9), clock.Elapsed,
                TimeSpan.FromSeconds(perStep * (_options.Steps - step)), heldOut));
            if (stop)
            {
                Stop(state, step);
                break;
            }
        }

        // The last step's checkpoint ends the stage: it must be committed.
        _checkpointer?.Flush(required: state.Step == _options.Steps);
        state.Ema = parallel.Finish(ema);
        return state;
    }

    /// <summary>
    /// The model in eval mode holding the weights to evaluate and sample with (the EMA's when there is one),
    /// full even under FSDP; the trained weights and training mode come back on dispose.
    /// </summary>
    private static Restore EvaluationWeights(StepParallelism parallel, ExponentialMovingAverage? ema)
    {
        var averaged = ema?.UseAveragedWeights();
        var full = parallel.FullWeights();
        parallel.Model.Eval();
        return new Restore(() =>
        {
            parallel.Model.Train();
            full.Dispose();
            averaged?.Dispose();
        });
    }

    /// <summary>Waits for the stop's checkpoint (saved with the step) and records where and why training stopped.</summary>
    private void Stop(TrainerState state, long step)
    {
        state.StoppedAt = step;
        state.StopReason = _control?.Reason ?? "requested by another rank";
        if (_checkpointer is null)
        {
            return;
        }

        _checkpointer.Flush();
        if (IsRankZero)
        {
            state.StopCheckpointCommitted = _checkpointer.Committed.Contains(step);
        }
    }

    /// <summary>
    /// The global batch's mean loss and sample/token counts (each rank trained on an equal share), and whether any rank
    /// asked to stop: the flag rides in the same all-reduce, so every rank learns it at the same step at no extra cost.
    /// </summary>
    private (double Loss, long Samples, long Tokens, bool Stop) GlobalTotals(double loss, long samples, long tokens, bool stop)
    {
        if (_group is null)
        {
            return (loss, samples, tokens, stop);
        }

        using var scope = Tensor.NewDisposeScope();
        // On the rank's device: NCCL reduces only CUDA tensors.
        var totals = Tensor.FromArray(new[] { loss, samples, tokens, stop ? 1.0 : 0.0 }, 4).To(_device);
        using (var work = _group.AllReduce(totals))
        {
            work.Wait();
        }

        var values = totals.ToArray<double>();
        return (values[0] / _group.WorldSize, (long)values[1], (long)values[2], values[3] > 0);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}

/// <summary>The loss or gradient stopped being a finite number.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException()
    {
    }

    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
