using System.Diagnostics.Metrics;

namespace Sora.Distributed.Training;

/// <summary>
/// The trainer's instruments on the "Sora.Training" meter (System.Diagnostics.Metrics), tagged with the
/// run name, so any listener (the Prometheus exporter, a test) can collect them.
/// </summary>
public sealed class TrainingMetrics : IDisposable
{
    public const string MeterName = "Sora.Training";

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _run;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _samples;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _loss;
    private readonly Histogram<double> _heldOutLoss;
    private readonly Histogram<double> _gradientNorm;
    private readonly Histogram<double> _stepSeconds;
    private readonly Histogram<double> _learningRate;
    private readonly Histogram<double> _exposedCommunication;
    private readonly Histogram<double> _checkpointBlocking;
    private readonly Counter<double> _flops;
    private readonly Counter<long> _nonFinite;
    private readonly Histogram<double> _dataSeconds;
    private readonly Histogram<double> _computeSeconds;
    private readonly Histogram<double> _optimizerSeconds;
    private readonly Histogram<long> _deviceMemory;

    public TrainingMetrics(string run)
    {
        _meter = new Meter(MeterName);
        _run = new KeyValuePair<string, object?>("run", run);
        _steps = _meter.CreateCounter<long>("sora.train.steps", description: "Optimizer steps taken");
        _samples = _meter.CreateCounter<long>("sora.train.samples", description: "Training samples consumed");
        _tokens = _meter.CreateCounter<long>("sora.train.tokens", description: "Training tokens consumed");
        _loss = _meter.CreateHistogram<double>("sora.train.loss", description: "Training loss per optimizer step");
        _heldOutLoss = _meter.CreateHistogram<double>("sora.eval.loss", description: "Held-out loss");
        _gradientNorm = _meter.CreateHistogram<double>("sora.train.grad_norm", description: "Global gradient norm before clipping");
        _stepSeconds = _meter.CreateHistogram<double>("sora.train.step_time", unit: "s", description: "Wall time of one optimizer step");
        _learningRate = _meter.CreateHistogram<double>("sora.train.learning_rate", description: "Learning rate of each step");
        _exposedCommunication = _meter.CreateHistogram<double>("sora.train.exposed_communication", unit: "s",
            description: "Time a step waited for gradient communication after backward (not hidden behind it)");
        _checkpointBlocking = _meter.CreateHistogram<double>("sora.checkpoint.blocking_time", unit: "s",
            description: "Time the training loop waited for a checkpoint (the copy to host memory; the upload is in the background)");
        _flops = _meter.CreateCounter<double>("sora.train.flops", description: "Model FLOPs (forward and backward) this rank computed");
        _nonFinite = _meter.CreateCounter<long>("sora.train.nonfinite_steps", description: "Steps whose loss or gradient norm was not finite");
        _dataSeconds = _meter.CreateHistogram<double>("sora.train.data_time", unit: "s", description: "Time a step waited for its batches");
        _computeSeconds = _meter.CreateHistogram<double>("sora.train.compute_time", unit: "s", description: "Time of a step's forward and backward passes");
        _optimizerSeconds = _meter.CreateHistogram<double>("sora.train.optimizer_time", unit: "s", description: "Time of a step's clipping, optimizer update and EMA");
        _deviceMemory = _meter.CreateHistogram<long>("sora.device.memory", unit: "By",
            description: "Device (GPU) memory the rank holds after a step: what libtorch's caching allocator reserved from the driver");
    }

    /// <summary>Where a step's time went: waiting for data, forward and backward, the optimizer.</summary>
    public void RecordPhases(TimeSpan data, TimeSpan compute, TimeSpan optimizer)
    {
        _dataSeconds.Record(data.TotalSeconds, _run);
        _computeSeconds.Record(compute.TotalSeconds, _run);
        _optimizerSeconds.Record(optimizer.TotalSeconds, _run);
    }

    /// <summary>A step whose loss or gradient norm was not finite (the trainer stops on it).</summary>
    public void RecordNonFinite() => _nonFinite.Add(1, _run);

    /// <summary>Model FLOPs of this rank's share of a step.</summary>
    public void RecordFlops(double flops)
    {
        if (flops > 0)
        {
            _flops.Add(flops, _run);
        }
    }

    public void RecordStep(double loss, double gradientNorm, double learningRate, double seconds, long samples, long tokens)
    {
        _steps.Add(1, _run);
        _samples.Add(samples, _run);
        _tokens.Add(tokens, _run);
        _loss.Record(loss, _run);
        _gradientNorm.Record(gradientNorm, _run);
        _learningRate.Record(learningRate, _run);
        _stepSeconds.Record(seconds, _run);
    }

    public void RecordCheckpointBlocking(TimeSpan wait) => _checkpointBlocking.Record(wait.TotalSeconds, _run);

    public void RecordExposedCommunication(TimeSpan wait) => _exposedCommunication.Record(wait.TotalSeconds, _run);

    public void RecordHeldOut(double loss) => _heldOutLoss.Record(loss, _run);

    /// <summary>Device memory the rank holds after a step (only on a GPU).</summary>
    public void RecordDeviceMemory(long bytes) => _deviceMemory.Record(bytes, _run);

    public void Dispose() => _meter.Dispose();
}
