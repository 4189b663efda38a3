using System.Diagnostics;
using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.Distributed;

namespace Sora.Distributed.Training;

/// <summary>
/// The training loop composed from a <see cref="TrainSpec{TBatch}"/>: per step, the scheduled learning
/// rate, gradient accumulation over micro-batches, global-norm clipping, the optimizer, the EMA, metrics,
/// progress, periodic held-out loss and samples. Every step runs inside a dispose scope.
/// Given a process group of more than one rank it trains data-parallel (DDP): each rank takes its
/// share of every global batch, gradients are averaged across ranks during backward, and only rank 0
/// evaluates and samples. The reported loss and throughput are those of the global batch.
/// </summary>
public sealed class Trainer<TBatch>
{
    private readonly TrainSpec<TBatch> _spec;
    private readonly TrainerOptions _options;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly ProcessGroup? _group;

    public Trainer(TrainSpec<TBatch> spec, TrainerOptions options, IProgress<TrainingProgress>? progress = null, ProcessGroup? group = null)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate(spec.Name);
        _spec.Schedule.Validate(spec.Name);
        _progress = progress;
        _group = group is { WorldSize: > 1 } ? group : null;
        if (_group is not null && spec.ShareOfBatch is null)
        {
            throw new ArgumentException($"{spec.Name}: training on {_group.WorldSize} ranks needs the spec's ShareOfBatch");
        }
    }

    private bool IsRankZero => _group is null || _group.Rank == 0;

    /// <summary>Builds the model, optimizer and data from the spec and trains for the configured steps.</summary>
    /// <returns>The final state; the caller owns (and disposes) its model, optimizer and EMA.</returns>
    public TrainerState Run(CancellationToken cancellation = default)
    {
        var model = _spec.BuildModel();
        using var ddp = _group is null ? null : new DistributedDataParallel(model, _group);
        var optimizer = _spec.BuildOptimizer(model.Parameters());
        var ema = _options.EmaDecay is { } decay ? new ExponentialMovingAverage(model, decay) : null;
        var state = new TrainerState(_spec.Name, model, optimizer, ema);
        var data = _spec.BuildData();
        using var metrics = new TrainingMetrics(_spec.Name);
        var clock = Stopwatch.StartNew();
        var window = new Queue<(double Loss, long Samples, double Seconds)>();
        double? heldOut = null;
        model.Train();

        for (var step = 1L; step <= _options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var stepClock = Stopwatch.StartNew();
            var lr = _spec.Schedule.At(step);
            optimizer.LearningRate = lr;
            optimizer.ZeroGrad();
            double loss = 0;
            long samples = 0;
            long tokens = 0;
            for (var micro = 0; micro < _options.GradientAccumulation; micro++)
            {
                using var scope = Tensor.NewDisposeScope();
                var batch = data.Next();
                if (_group is not null)
                {
                    batch = _spec.ShareOfBatch!(batch, _group.Rank, _group.WorldSize);
                }

                // Gradient accumulation: only the last micro-batch's backward reduces across ranks.
                using var noSync = ddp is not null && micro < _options.GradientAccumulation - 1 ? ddp.NoSync() : null;
                var result = _spec.Loss(model, batch);
                var value = result.Loss.ItemDouble();
                if (!double.IsFinite(value))
                {
                    throw new TrainingDivergedException($"{_spec.Name}: the loss is {value} at step {step} (micro-batch {micro}); lower the learning rate or check the data");
                }

                result.Loss.Div(_options.GradientAccumulation).Backward();
                loss += value / _options.GradientAccumulation;
                samples += result.Samples;
                tokens += result.Tokens;
            }

            if (ddp is not null)
            {
                ddp.SynchronizeGradients();
                metrics.RecordExposedCommunication(ddp.ExposedCommunication);
            }

            (loss, samples, tokens) = GlobalTotals(loss, samples, tokens);

            double gradientNorm;
            using (Tensor.NewDisposeScope())
            {
                gradientNorm = _options.GradientClip > 0
                    ? GradientClipping.ClipByGlobalNorm(model.Parameters(), _options.GradientClip)
                    : Sora.Torch.Optim.ForEach.Norm(GradientsOf(model));
            }

            if (!double.IsFinite(gradientNorm))
            {
                throw new TrainingDivergedException($"{_spec.Name}: the gradient norm is {gradientNorm} at step {step}; lower the learning rate");
            }

            optimizer.Step();
            ema?.Update();

            var seconds = stepClock.Elapsed.TotalSeconds;
            state.Step = step;
            state.SamplesSeen += samples;
            state.Elapsed = clock.Elapsed;
            state.LossHistory.Add((step, loss));
            metrics.RecordStep(loss, gradientNorm, lr, seconds, samples, tokens);
            window.Enqueue((loss, samples, seconds));
            if (window.Count > _options.LossWindow)
            {
                window.Dequeue();
            }

            var last = step == _options.Steps;
            if (IsRankZero && _spec.HeldOutLoss is not null && (last || (_options.EvalEvery > 0 && step % _options.EvalEvery == 0)))
            {
                heldOut = EvaluateHeldOut(state);
                state.HeldOutHistory.Add((step, heldOut.Value));
                metrics.RecordHeldOut(heldOut.Value);
            }

            if (IsRankZero && _spec.OnSample is not null && (last || (_options.SampleEvery > 0 && step % _options.SampleEvery == 0)))
            {
                _spec.OnSample(state);
                model.Train();
            }

            var windowSeconds = window.Sum(w => w.Seconds);
            var perStep = clock.Elapsed.TotalSeconds / step;
            _progress?.Report(new TrainingProgress(
                _spec.Name, step, _options.Steps, window.Average(w => w.Loss), lr, gradientNorm,
                window.Sum(w => w.Samples) / Math.Max(windowSeconds, 1e-9), clock.Elapsed,
                TimeSpan.FromSeconds(perStep * (_options.Steps - step)), heldOut));
        }

        return state;
    }

    /// <summary>The global batch's mean loss and sample/token counts (each rank trained on an equal share).</summary>
    private (double Loss, long Samples, long Tokens) GlobalTotals(double loss, long samples, long tokens)
    {
        if (_group is null)
        {
            return (loss, samples, tokens);
        }

        using var scope = Tensor.NewDisposeScope();
        var totals = Tensor.FromArray(new[] { loss, samples, tokens }, 3);
        using (var work = _group.AllReduce(totals))
        {
            work.Wait();
        }

        var values = totals.ToArray<double>();
        return (values[0] / _group.WorldSize, (long)values[1], (long)values[2]);
    }

    private double EvaluateHeldOut(TrainerState state)
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        if (state.Ema is null)
        {
            state.Model.Eval();
            var value = _spec.HeldOutLoss!(state.Model);
            state.Model.Train();
            return value;
        }

        // Evaluate the averaged weights: swap them in, then restore the trained ones.
        var trained = state.Model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.Ema.CopyTo(state.Model);
        state.Model.Eval();
        try
        {
            return _spec.HeldOutLoss!(state.Model);
        }
        finally
        {
            state.Model.LoadStateDict(trained);
            state.Model.Train();
        }
    }

    private static Tensor[] GradientsOf(Sora.Torch.NN.Module model) =>
        model.Parameters().Select(p => p.Grad()).Where(g => g is not null).Select(g => g!).ToArray();
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
