using Sora.Distributed.Training;
using Sora.Metrics.Pipeline;
using Sora.Torch;

namespace Sora.Cluster.Workers;

/// <summary>
/// A worker's progress sink that also reports its metrics: each step is noted in the <see cref="RankMetricsRecorder"/>
/// (its instruments were recorded just before), and a <see cref="RankMetrics"/> line goes to the agent at most every
/// interval (<see cref="DefaultInterval"/>) and at a stage's last step. The agent batches them into its heartbeat to the coordinator.
/// </summary>
public sealed class WorkerMetricsReporter(IProgress<TrainingProgress> inner, IProgress<WorkerMessage> messages, RankMetricsRecorder recorder, TimeSpan? interval = null) : IProgress<TrainingProgress>
{
    /// <summary>The shortest time between two metrics lines by default (the agent reports at 1 Hz).</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(0.5);

    private readonly TimeSpan _interval = interval ?? DefaultInterval;

    private DateTime _lastSent = DateTime.MinValue;

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        recorder.OnStep(value.Name, value.Step, value.TotalSteps);
        inner.Report(value);
        var now = DateTime.UtcNow;
        if (now - _lastSent >= _interval || value.Step == value.TotalSteps)
        {
            _lastSent = now;
            messages.Report(new WorkerMessage { Metrics = recorder.Snapshot() });
        }
    }

    /// <summary>
    /// What MFU is measured against on a CPU: this process's best fp32 GEMM rate on its threads (two 1024³ products,
    /// about 50 ms at start), not a datasheet figure: MFU on a CPU says how close the model comes to what the cores do
    /// on the densest kernel they run.
    /// </summary>
    public static double MeasureCpuPeakFlops()
    {
        const long n = 1024;
        var best = Math.Min(NativeBenchmarks.Gemm(n, 1), NativeBenchmarks.Gemm(n, 1));
        return best > 0 ? 2.0 * n * n * n / best : 0;
    }

    /// <summary>
    /// What MFU is measured against where the worker trains: on the CPU <see cref="MeasureCpuPeakFlops"/>; on a GPU that
    /// device's own matrix-product rate in the dtype the model computes in (fp32, or bf16 under mixed precision), measured
    /// once at the worker's start (8192³ products, well under a second on a data-centre GPU).
    /// </summary>
    public static double MeasurePeakFlops(Device device, ScalarType computeDType) =>
        device.Type == DeviceType.Cpu ? MeasureCpuPeakFlops() : GemmPeak.Measure(device, computeDType, GemmPeak.CudaSide);
}
