using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Support;

namespace Sora.Distributed.Tests.Parallel;

/// <summary>
/// DDP and FSDP on a GPU over NCCL: every buffer they allocate (gradient buckets, flat parameters,
/// reduce-scatter outputs, the clipping norm) lives on the parameters' device, and training through
/// them equals plain training on that device. One GPU allows one NCCL rank; these are skipped on
/// CPU-only machines.
/// </summary>
[Collection(nameof(Training.TrainerTests))]
public sealed class CudaDataParallelTests
{
    private const int Steps = 5;
    private static readonly Device Gpu = Device.Cuda(0);

    [CudaFact]
    public void Ddp_over_nccl_trains_like_one_device()
    {
        var expected = Train(wrap: null);
        var actual = Train(wrap: (model, group) => new DistributedDataParallel(model, group, bucketBytes: 512));
        AssertSame(expected, actual);
    }

    [CudaFact]
    public void Fsdp_over_nccl_trains_like_one_device()
    {
        var expected = Train(wrap: null);
        var actual = Train(wrap: (model, group) => new FullyShardedDataParallel(model, model.Blocks, group));
        AssertSame(expected, actual);
    }

    [CudaFact]
    public void Fsdp_with_bf16_compute_over_nccl_tracks_fp32_training()
    {
        var expected = Train(wrap: null);
        var actual = Train(wrap: (model, group) => new FullyShardedDataParallel(model, model.Blocks, group, computeDType: ScalarType.BFloat16), bf16: true);
        actual.Losses.Should().Equal(expected.Losses, (a, b) => Math.Abs(a - b) <= 0.05 * Math.Abs(b), "bf16 keeps 8 bits of mantissa");
        actual.Losses.Should().NotEqual(expected.Losses, "the steps ran in bf16");
    }

    private static void AssertSame((double[] Losses, float[][] Weights) expected, (double[] Losses, float[][] Weights) actual)
    {
        actual.Losses.Should().Equal(expected.Losses, (a, b) => Math.Abs(a - b) <= 1e-5 * (1 + Math.Abs(b)));
        for (var i = 0; i < expected.Weights.Length; i++)
        {
            actual.Weights[i].Should().Equal(expected.Weights[i], (a, b) => Math.Abs(a - b) <= 1e-5f * (1 + Math.Abs(b)), $"parameter {i}");
        }
    }

    private static (double[] Losses, float[][] Weights) Train(Func<FullyShardedDataParallelTests.BlockModel, ProcessGroup, IDisposable>? wrap, bool bf16 = false)
    {
        var model = FullyShardedDataParallelTests.BuildModel(seed: 31);
        model.To(Gpu);
        var timeout = TimeSpan.FromSeconds(60);
        using var server = TcpStore.CreateServer("127.0.0.1", 0, timeout);
        using var store = server.WithPrefix(Guid.NewGuid().ToString("N"));
        using var group = wrap is null ? null : ProcessGroup.Create(ProcessGroupBackend.Nccl, store, 0, 1, timeout);
        using var parallel = wrap?.Invoke(model, group!);
        var fsdp = parallel as FullyShardedDataParallel;
        var ddp = parallel as DistributedDataParallel;
        using var optimizer = new AdamW(fsdp?.ShardParameters ?? model.Parameters(), 1e-2);
        optimizer.Parameters.Should().AllSatisfy(p => p.Device.Should().Be(Gpu));
        var losses = new double[Steps];
        for (var step = 0; step < Steps; step++)
        {
            using var scope = Tensor.NewDisposeScope();
            var (inputs, targets) = RegressionBatches.Batch(seed: 700UL + (ulong)step);
            var (x, y) = RegressionBatches.Slice(inputs, targets, 0, 1);
            optimizer.ZeroGrad();
            fsdp?.BeginStep();
            var input = x.To(Gpu);
            var loss = Functional.MseLoss(model.Forward(bf16 ? input.To(ScalarType.BFloat16) : input).To(ScalarType.Float32), y.To(Gpu));
            losses[step] = loss.ItemDouble();
            loss.Backward();
            ddp?.SynchronizeGradients();
            fsdp?.FinishBackward();
            _ = fsdp?.ClipGradients(1e6); // the global norm (an all-reduce on the device) without changing the step
            optimizer.Step();
        }

        using (fsdp?.SummonFullParameters())
        {
            return (losses, model.Parameters().Select(p => p.To(Device.Cpu).ToArray<float>()).ToArray());
        }
    }
}
