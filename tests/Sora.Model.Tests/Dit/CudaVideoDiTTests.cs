using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;
using Sora.Torch.Tests.Support;

namespace Sora.Model.Tests.Dit;

/// <summary>
/// The DiT trains on a GPU: every tensor it makes for itself (positions, timestep frequencies, masks,
/// the unconditional embedding) follows its input's device, and the loss and gradients equal the CPU's
/// for the same weights, noise and timesteps. Skipped on CPU-only machines.
/// </summary>
public sealed class CudaVideoDiTTests
{
    private static readonly DiTConfig Small = new() { Hidden = 32, Depth = 2, Heads = 2, TextDim = 16, MaxTextTokens = 6, TimestepFrequencies = 32, CrossAttention = true };

    [CudaFact]
    public void The_rectified_flow_loss_and_its_gradients_on_the_device_equal_the_cpu()
    {
        using var scope = Tensor.NewDisposeScope();
        var gpu = Device.Cuda(0);
        RandomState.ManualSeed(11);
        using var cpuModel = new VideoDiT(Small, vocabularySize: 10);
        using var gpuModel = new VideoDiT(Small, vocabularySize: 10);
        using (Tensor.NoGrad())
        {
            // adaLN-Zero starts every output at zero; nudge the zero-initialised layers so gradients reach every block.
            foreach (var p in cpuModel.Parameters())
            {
                p.Add_(Tensor.Randn(p.Shape).Mul(0.02));
            }
        }

        gpuModel.LoadStateDict(cpuModel.StateDict());
        gpuModel.To(gpu);
        var flow = new RectifiedFlow();
        var x0 = Tensor.Randn([2, 4, 4, 8, 6]);
        var tokens = Tensor.FromArray(new long[] { 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 2, 6);
        var clean = Tensor.FromArray(new[] { true, false, false, false, false, false, false, false }, 2, 4);
        var t = Tensor.FromArray(new[] { 0.3f, 0.8f }, 2);
        var noise = Tensor.Randn(x0.Shape);

        var onCpu = flow.Loss(cpuModel, x0, tokens, cleanFrames: clean, timesteps: t, noise: noise);
        var onGpu = flow.Loss(gpuModel, x0.To(gpu), tokens.To(gpu), cleanFrames: clean, timesteps: t, noise: noise);
        onGpu.Loss.Device.Should().Be(gpu);
        onGpu.Loss.ItemDouble().Should().BeApproximately(onCpu.Loss.ItemDouble(), 1e-4 * Math.Abs(onCpu.Loss.ItemDouble()));
        onCpu.Loss.Backward();
        onGpu.Loss.Backward();
        var gpuGrads = gpuModel.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad());
        foreach (var (name, parameter) in cpuModel.NamedParameters())
        {
            var expected = parameter.Grad();
            if (expected is null)
            {
                gpuGrads[name].Should().BeNull(name);
                continue;
            }

            var actual = gpuGrads[name]!.To(Device.Cpu);
            var error = actual.Sub(expected).Abs().Max().ItemDouble();
            var scale = expected.Abs().Max().ItemDouble();
            error.Should().BeLessThanOrEqualTo((1e-4 * scale) + 1e-6, $"gradient of {name}");
        }
    }
}
