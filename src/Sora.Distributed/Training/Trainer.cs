using System.Diagnostics;
using Sora.Torch;

namespace Sora.Distributed.Training;

/// <summary>
/// The training loop composed from a <see cref="TrainSpec{TBatch}"/>: per step, the scheduled learning
/// rate, gradient accumulation over micro-batches, global-norm clipping, the optimizer, the EMA, metrics,
/// progress, periodic held-out loss and samples. Every step runs inside a dispose scope.
/// </summary>
public sealed class Trainer<TBatch>
{
    private readonly TrainSpec<TBatch> _spec;
    private readonly TrainerOptions _options;
    private readonly IProgress<TrainingProgress>? _progress;

    public Trainer(TrainSpec<TBatch> spec, TrainerOptions options, IProgress<TrainingProgress>? progress = null)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate(spec.Name);
        _spec.Schedule.Validate(spec.Name);
        _progress = progress;
    }

    /// <summary>Builds the model, optimizer and data from the spec and trains for the configured steps.</summary>
    /// <returns>The final state; the caller owns (and disposes) its model, optimizer and EMA.</returns>
    public TrainerState Run(CancellationToken cancellation = default)
    {
        var model = _spec.BuildModel();
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
                var result = _spec.Loss(model, data.Next());
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
            if (_spec.HeldOutLoss is not null && (last || (_options.EvalEvery > 0 && step % _options.EvalEvery == 0)))
            {
                heldOut = EvaluateHeldOut(state);
                state.HeldOutHistory.Add((step, heldOut.Value));
                metrics.RecordHeldOut(heldOut.Value);
            }

            if (_spec.OnSample is not null && (last || (_options.SampleEvery > 0 && step % _options.SampleEvery == 0)))
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
