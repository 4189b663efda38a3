using System.Diagnostics;
using Sora.Cluster.Workers;
using Sora.Distributed.Training;
using Sora.Metrics.Pipeline;

namespace Sora.Cli.Bench;

/// <summary>What <c>sora bench metrics</c> measured.</summary>
/// <param name="StepSeconds">The bench config's median training step, measured in the same run.</param>
/// <param name="BaselineMicroseconds">A step's instruments recorded with nobody listening (what training always pays), per step.</param>
/// <param name="PipelineMicroseconds">The same with the metrics pipeline's worker side: the listener, the step noted, and a metrics line serialized and written every step (the real interval is 0.5 s: this is the worst case).</param>
/// <param name="Steps">Simulated steps per measurement.</param>
internal sealed record MetricsOverheadResult(double StepSeconds, double BaselineMicroseconds, double PipelineMicroseconds, int Steps)
{
    /// <summary>The pipeline's added cost per step over the step's time (goal: under 1%).</summary>
    public double OverheadRatio => (PipelineMicroseconds - BaselineMicroseconds) / 1e6 / StepSeconds;
}

/// <summary>
/// <c>sora bench metrics</c>: an A/B of the metrics pipeline's cost on a worker against the bench step. A (baseline): the
/// trainer's instruments recorded for a step with nothing listening. B: the same with the pipeline on: the worker's
/// <see cref="RankMetricsRecorder"/> listening, the step noted, and a metrics line serialized to JSON and written every
/// step. Both run interleaved, several rounds, taking the medians; the difference over the bench step's median time (measured
/// in the same run) is the overhead. The coordinator's side is <c>sora bench control-plane</c>.
/// </summary>
internal static class MetricsOverheadBenchmark
{
    public static MetricsOverheadResult Run(StepBenchmark step, int steps, int rounds, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        progress?.Report("bench step");
        var stepSeconds = step.Run(progress).StepSeconds;
        var baseline = new List<double>();
        var pipeline = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            progress?.Report($"round {round + 1}/{rounds}: {steps} steps' instruments without and with the pipeline");
            baseline.Add(Measure(steps, withPipeline: false));
            pipeline.Add(Measure(steps, withPipeline: true));
        }

        return new MetricsOverheadResult(stepSeconds, Median(baseline), Median(pipeline), steps);
    }

    // Microseconds per step of what the trainer records each step (as Trainer.Run does), optionally with the worker's pipeline on.
    private static double Measure(int steps, bool withPipeline)
    {
        using var metrics = new TrainingMetrics("dit");
        using var recorder = withPipeline ? new RankMetricsRecorder(1e11) : null;
        using var output = new StreamWriter(Stream.Null);
        var (_, training, messages) = WorkerMessages.Writers(output);
        var reporter = recorder is null ? null : new WorkerMetricsReporter(new NullProgress(), messages, recorder, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= steps; i++)
        {
            metrics.RecordExposedCommunication(TimeSpan.FromMilliseconds(3));
            metrics.RecordFlops(1e9);
            metrics.RecordPhases(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(80), TimeSpan.FromMilliseconds(10));
            metrics.RecordStep(0.5, 1.0, 1e-4, 0.1, 32, 8192);
            reporter?.Report(new TrainingProgress("dit", i, steps + 1, 0.5, 1e-4, 1.0, 300, TimeSpan.FromSeconds(i), TimeSpan.FromSeconds(steps - i), null));
        }

        _ = training;
        return clock.Elapsed.TotalMicroseconds / steps;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private sealed class NullProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
        }
    }
}
