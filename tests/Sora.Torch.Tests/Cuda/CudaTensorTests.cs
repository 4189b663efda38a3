using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Cuda;

/// <summary>
/// The shim's CUDA build computes what its CPU build computes. These run on a GPU machine (they are
/// skipped on CPU-only machines); the tolerances are fp32 rounding of different kernels, with TF32 off
/// (libtorch's default for matrix products).
/// </summary>
public sealed class CudaTensorTests
{
    private static readonly Device Gpu = Device.Cuda(0);

    [CudaFact]
    public void Tensors_move_between_host_and_device_unchanged()
    {
        using var scope = Tensor.NewDisposeScope();
        var host = Tensor.Randn([3, 5]);
        var device = host.To(Gpu);
        device.Device.Should().Be(Gpu);
        device.To(Device.Cpu).ToArray<float>().Should().Equal(host.ToArray<float>());
        Tensor.Zeros([4], device: Gpu).Device.Should().Be(Gpu);
    }

    [CudaFact]
    public void Operations_on_the_device_match_the_cpu()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(1);
        var a = Tensor.Randn([64, 96]);
        var b = Tensor.Randn([96, 32]);
        var q = Tensor.Randn([2, 4, 16, 8]);
        Tensor[] Compute(Tensor x, Tensor y, Tensor query) =>
        [
            x.MatMul(y),
            x.Softmax(1),
            x.Gelu(),
            Functional.LayerNorm(x, [96]),
            Functional.ScaledDotProductAttention(query, query, query),
        ];

        var onCpu = Compute(a, b, q);
        var onGpu = Compute(a.To(Gpu), b.To(Gpu), q.To(Gpu));
        for (var i = 0; i < onCpu.Length; i++)
        {
            onGpu[i].Device.Should().Be(Gpu);
            onGpu[i].To(Device.Cpu).ShouldApproximate(onCpu[i].Values(), 1e-4, $"(result {i})");
        }
    }

    [CudaFact]
    public void Gradients_and_an_adamw_step_on_the_device_match_the_cpu()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(2);
        using var cpuModel = new Linear(16, 8);
        using var gpuModel = new Linear(16, 8);
        gpuModel.LoadStateDict(cpuModel.StateDict());
        gpuModel.To(Gpu);
        var input = Tensor.Randn([32, 16]);
        using var cpuAdam = new AdamW(cpuModel.Parameters(), learningRate: 1e-2, weightDecay: 0.1);
        using var gpuAdam = new AdamW(gpuModel.Parameters(), learningRate: 1e-2, weightDecay: 0.1);
        for (var step = 0; step < 3; step++)
        {
            cpuAdam.ZeroGrad();
            gpuAdam.ZeroGrad();
            cpuModel.Forward(input).Square().Mean().Backward();
            gpuModel.Forward(input.To(Gpu)).Square().Mean().Backward();
            gpuModel.Weight.Grad()!.To(Device.Cpu).ShouldApproximate(cpuModel.Weight.Grad()!.Values(), 1e-5, $"(weight gradient, step {step})");
            cpuAdam.Step();
            gpuAdam.Step();
        }

        gpuModel.Weight.Device.Should().Be(Gpu);
        gpuModel.Weight.To(Device.Cpu).ShouldApproximate(cpuModel.Weight.Values(), 1e-5, "(weights after three AdamW steps)");
    }

    [CudaFact]
    public void Bfloat16_matrix_products_on_the_device_stay_close_to_float32()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(3);
        var a = Tensor.Randn([128, 256], device: Gpu);
        var b = Tensor.Randn([256, 64], device: Gpu);
        var exact = a.MatMul(b);
        var low = a.To(ScalarType.BFloat16).MatMul(b.To(ScalarType.BFloat16));
        low.DType.Should().Be(ScalarType.BFloat16);
        var error = low.To(ScalarType.Float32).Sub(exact).Abs().Max().ItemDouble();
        var scale = exact.Abs().Max().ItemDouble();
        (error / scale).Should().BeLessThan(0.02, "bf16 keeps 8 bits of mantissa; the products sum 256 terms");
    }

    [CudaFact]
    public void A_batch_goes_to_the_device_from_pinned_memory_unchanged()
    {
        using var scope = Tensor.NewDisposeScope();
        var host = Tensor.Randn([4, 3, 8, 16, 16]);
        host.IsPinned.Should().BeFalse();
        host.PinMemory().IsPinned.Should().BeTrue();
        var onDevice = host.OnDevice(Gpu);
        onDevice.Device.Should().Be(Gpu);
        onDevice.OnDevice(Gpu).Should().BeSameAs(onDevice, "a tensor already there is not copied");
        onDevice.To(Device.Cpu).ToArray<float>().Should().Equal(host.ToArray<float>(), "the non-blocking copy is ordered before the kernels after it");
    }

    [CudaFact]
    public void The_caching_allocator_s_memory_is_reported_and_the_device_can_be_made_current()
    {
        TorchRuntime.CudaSetDevice(0);
        using var scope = Tensor.NewDisposeScope();
        var before = TorchRuntime.CudaMemoryOf(0);
        var block = Tensor.Zeros([64L << 20], device: Gpu);
        var after = TorchRuntime.CudaMemoryOf(0);
        (after.Allocated - before.Allocated).Should().BeGreaterThanOrEqualTo(block.ByteCount);
        after.Reserved.Should().BeGreaterThanOrEqualTo(after.Allocated);
        after.PeakAllocated.Should().BeGreaterThanOrEqualTo(after.Allocated);
        var act = () => TorchRuntime.CudaSetDevice(TorchRuntime.CudaDeviceCount);
        act.Should().Throw<TorchException>().WithMessage("*is not a visible device*");
    }

    [CudaFact]
    public void The_device_s_matrix_product_peak_is_measured_in_the_compute_dtype()
    {
        var fp32 = GemmPeak.Measure(Gpu, ScalarType.Float32, 4096, runs: 2);
        var bf16 = GemmPeak.Measure(Gpu, ScalarType.BFloat16, 4096, runs: 2);
        fp32.Should().BeGreaterThan(1e12, "any data-centre GPU does more than a TFLOP/s in fp32");
        bf16.Should().BeGreaterThan(fp32, "tensor cores");
    }

    [CudaFact]
    public void The_device_generator_state_round_trips()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(4);
        var state = RandomState.GetState(Gpu);
        var first = Tensor.Randn([1000], device: Gpu).To(Device.Cpu).ToArray<float>();
        RandomState.SetState(state, Gpu);
        var again = Tensor.Randn([1000], device: Gpu).To(Device.Cpu).ToArray<float>();
        again.Should().Equal(first);
        TorchRuntime.CudaSynchronize();
    }
}
