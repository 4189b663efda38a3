using System.Diagnostics.Metrics;

namespace Sora.Metrics.Pipeline;

/// <summary>
/// A worker's side of the metrics pipeline: listens to the trainer's System.Diagnostics.Metrics instruments (the
/// "Sora.Training" meter and any other meter named "Sora.*") and keeps what <see cref="RankMetrics"/> carries.
/// The worker calls <see cref="OnStep"/> with each step's number after the step's instruments were recorded, and
/// takes a <see cref="Snapshot"/> whenever it reports. Thread-safe: checkpoint writes record from background tasks.
/// </summary>
public sealed class RankMetricsRecorder : IDisposable
{
    /// <summary>The instruments it reads (the names the trainer records under).</summary>
    public static class Instruments
    {
        public const string Steps = "sora.train.steps";
        public const string Samples = "sora.train.samples";
        public const string Tokens = "sora.train.tokens";
        public const string Flops = "sora.train.flops";
        public const string NonFiniteSteps = "sora.train.nonfinite_steps";
        public const string Loss = "sora.train.loss";
        public const string HeldOutLoss = "sora.eval.loss";
        public const string GradientNorm = "sora.train.grad_norm";
        public const string LearningRate = "sora.train.learning_rate";
        public const string StepTime = "sora.train.step_time";
        public const string DataTime = "sora.train.data_time";
        public const string ComputeTime = "sora.train.compute_time";
        public const string OptimizerTime = "sora.train.optimizer_time";
        public const string ExposedCommunication = "sora.train.exposed_communication";
        public const string QueueDepth = "sora.data.queue_depth";
        public const string PaddingWaste = "sora.data.padding_waste";
        public const string CheckpointSaveTime = "sora.checkpoint.save_time";
        public const string CheckpointSaveSize = "sora.checkpoint.save_size";
        public const string CheckpointSavedStep = "sora.checkpoint.saved_step";
        public const string CheckpointLoadTime = "sora.checkpoint.load_time";
        public const string CheckpointLoadSize = "sora.checkpoint.load_size";
        public const string CheckpointCommittedStep = "sora.checkpoint.committed_step";
        public const string DeviceMemory = "sora.device.memory";
    }

    /// <summary>The measurement tag that names the training stage a checkpoint instrument's value belongs to.</summary>
    public const string StageTag = "stage";

    private readonly MeterListener _listener = new();
    private readonly object _gate = new();
    private readonly Func<DateTimeOffset> _clock;
    private readonly Queue<(long Step, double Seconds, double Loss)> _recent = new();
    private readonly Queue<(double Seconds, double Flops)> _rate = new();
    private readonly Queue<double> _busy = new();
    private RankMetrics _current = new();
    private double _flopsAtLastStep;

    /// <param name="peakFlopsPerSecond">What MFU is measured against (0: unknown).</param>
    /// <param name="clock">Wall clock (tests pass their own).</param>
    public RankMetricsRecorder(double peakFlopsPerSecond = 0, Func<DateTimeOffset>? clock = null)
    {
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
        _current = _current with { PeakFlopsPerSecond = peakFlopsPerSecond };
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Sora.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, StageOf(tags)));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, StageOf(tags)));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, StageOf(tags)));
        _listener.Start();
    }

    /// <summary>A step ended (its instruments are recorded): remembers its time and loss under its number.</summary>
    public void OnStep(string stage, long step, long totalSteps)
    {
        lock (_gate)
        {
            var c = _current;
            if (c.Stage.Length > 0 && c.Stage != stage)
            {
                // A new stage numbers its steps from 1 again: the last stage's steps and rates are not its own.
                _recent.Clear();
                _rate.Clear();
                _busy.Clear();
                _flopsAtLastStep = c.FlopsTotal;
                c = c with { HeldOutLoss = null, HeldOutStep = 0 };
            }

            _recent.Enqueue((step, c.StepSeconds, c.Loss));
            while (_recent.Count > RankMetrics.RecentCapacity)
            {
                _recent.Dequeue();
            }

            // FLOP/s over the last few steps' wall time.
            _rate.Enqueue((c.StepSeconds, c.FlopsTotal - _flopsAtLastStep));
            _flopsAtLastStep = c.FlopsTotal;
            while (_rate.Count > 10)
            {
                _rate.Dequeue();
            }

            _busy.Enqueue(Math.Max(0, c.StepSeconds - c.CommunicationSeconds));
            while (_busy.Count > 10)
            {
                _busy.Dequeue();
            }

            var seconds = _rate.Sum(r => r.Seconds);
            _current = c with
            {
                Stage = stage,
                Step = step,
                TotalSteps = totalSteps,
                FlopsPerSecond = seconds > 0 ? _rate.Sum(r => r.Flops) / seconds : 0,
                BusySeconds = _busy.Average(),
                HeldOutStep = c.HeldOutLoss is not null && c.HeldOutStep == 0 ? step : c.HeldOutStep,
            };
        }
    }

    /// <summary>What the rank has measured so far.</summary>
    public RankMetrics Snapshot()
    {
        lock (_gate)
        {
            return _current with
            {
                RecentSteps = _recent.Select(r => r.Step).ToArray(),
                RecentStepSeconds = _recent.Select(r => r.Seconds).ToArray(),
                RecentLosses = _recent.Select(r => r.Loss).ToArray(),
            };
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string? StageOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == StageTag)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private void Record(string name, double value, string? stage)
    {
        lock (_gate)
        {
            var c = _current;
            _current = name switch
            {
                Instruments.Steps => c with { StepsTotal = c.StepsTotal + (long)value },
                Instruments.Samples => c with { SamplesTotal = c.SamplesTotal + (long)value },
                Instruments.Tokens => c with { TokensTotal = c.TokensTotal + (long)value },
                Instruments.Flops => c with { FlopsTotal = c.FlopsTotal + value },
                Instruments.NonFiniteSteps => c with { NonFiniteStepsTotal = c.NonFiniteStepsTotal + (long)value },
                Instruments.Loss => c with { Loss = value },

                // Held-out loss is measured at the end of a step, before OnStep names it: HeldOutStep 0 means "this step".
                Instruments.HeldOutLoss => c with { HeldOutLoss = value, HeldOutStep = 0 },
                Instruments.GradientNorm => c with { GradientNorm = value },
                Instruments.LearningRate => c with { LearningRate = value },
                Instruments.StepTime => c with { StepSeconds = value },
                Instruments.DataTime => c with { DataSeconds = value, DataWaitSecondsTotal = c.DataWaitSecondsTotal + value },
                Instruments.ComputeTime => c with { ComputeSeconds = value },
                Instruments.OptimizerTime => c with { OptimizerSeconds = value },
                Instruments.ExposedCommunication => c with { CommunicationSeconds = value },
                Instruments.QueueDepth => c with { LoaderQueueDepth = value },
                Instruments.PaddingWaste => c with { PaddingWasteRatio = value },
                Instruments.CheckpointSaveTime => c with { CheckpointSaveSeconds = value, CheckpointSavesTotal = c.CheckpointSavesTotal + 1 },
                Instruments.CheckpointSaveSize => c with { CheckpointSaveBytes = (long)value },
                Instruments.CheckpointSavedStep => c with { CheckpointSaveStep = (long)value, CheckpointSaveStage = stage ?? c.Stage },
                Instruments.CheckpointLoadTime => c with { CheckpointLoadSeconds = value },
                Instruments.CheckpointLoadSize => c with { CheckpointLoadBytes = (long)value },
                Instruments.DeviceMemory => c with { DeviceBytes = (long)value },
                Instruments.CheckpointCommittedStep => c with { CommittedStep = (long)value, CommittedStage = stage ?? c.Stage, CommittedAtUnixSeconds = _clock().ToUnixTimeMilliseconds() / 1000.0 },
                _ => c,
            };
        }
    }
}
