using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.Tests.Support;
using static Sora.Distributed.Tests.Support.TensorRegression;

namespace Sora.Distributed.Tests.Training;

/// <summary>
/// The trainer on a GPU (skipped on CPU-only machines): the model, its optimizer state and EMA live on the device, the
/// device's memory is reported, and a checkpoint written on the device resumes on the CPU and the reverse.
/// </summary>
[Collection(nameof(TrainerTests))]
public sealed class CudaTrainerTests : IDisposable
{
    private static readonly Device Gpu = Device.Cuda(0);
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-cuda-trainer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [CudaFact]
    public void Everything_the_trainer_keeps_lives_on_the_device_and_trains_like_the_cpu()
    {
        var onCpu = TrainWithCheckpoints(Device.Cpu, Path.Combine(_directory, "cpu"), resume: null, steps: 6);
        var memory = new List<double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "sora.device.memory")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => memory.Add(value));
        listener.Start();

        var state = new Trainer<RegressionBatch>(Spec(), new TrainerOptions { Steps = 6, EmaDecay = 0.9 }, device: Gpu).Run();
        using var model = state.Model;
        using var optimizer = state.Optimizer;
        using var ema = state.Ema;
        model.Parameters().Should().OnlyContain(p => p.Device == Gpu);
        optimizer.Parameters.Should().OnlyContain(p => p.Device == Gpu);
        using (var scope = Tensor.NewDisposeScope())
        {
            ema!.StateDict().Values.Should().OnlyContain(t => t.Device == Gpu);
        }

        memory.Should().HaveCount(6).And.OnlyContain(bytes => bytes > 0);
        Weights(model).Should().Equal(onCpu, (a, b) => Math.Abs(a - b) <= 1e-4f * (1 + Math.Abs(b)), "the same host-drawn batches on another device's kernels");
    }

    [CudaFact]
    public void A_checkpoint_written_on_the_device_resumes_on_the_cpu_and_the_reverse()
    {
        var reference = TrainWithCheckpoints(Device.Cpu, Path.Combine(_directory, "reference"), resume: null, steps: 6);

        var gpuFirst = Path.Combine(_directory, "gpu-first");
        TrainWithCheckpoints(Gpu, gpuFirst, resume: null, steps: 3);
        var thenCpu = TrainWithCheckpoints(Device.Cpu, gpuFirst, resume: "3", steps: 6);

        var cpuFirst = Path.Combine(_directory, "cpu-first");
        TrainWithCheckpoints(Device.Cpu, cpuFirst, resume: null, steps: 3);
        var thenGpu = TrainWithCheckpoints(Gpu, cpuFirst, resume: "3", steps: 6);

        thenCpu.Should().Equal(reference, (a, b) => Math.Abs(a - b) <= 1e-4f * (1 + Math.Abs(b)), "CUDA → CPU: weights, AdamW moments, EMA, generator and cursor came back");
        thenGpu.Should().Equal(reference, (a, b) => Math.Abs(a - b) <= 1e-4f * (1 + Math.Abs(b)), "CPU → CUDA");
    }
}
