using Sora.Torch.Distributed;
using Sora.Torch.Tests.Support;

namespace Sora.Torch.Tests.Cuda;

/// <summary>
/// The NCCL process group through the same C# API as Gloo, on device tensors. One GPU allows one rank
/// (NCCL refuses two ranks on one device), so these check the NCCL code path, results and error
/// reporting at world size 1; the multi-rank arithmetic is the Gloo tests' job.
/// </summary>
public sealed class NcclProcessGroupTests
{
    private static readonly Device Gpu = Device.Cuda(0);

    private static void WithGroup(Action<ProcessGroup> body)
    {
        var timeout = TimeSpan.FromSeconds(60);
        using var server = TcpStore.CreateServer("127.0.0.1", 0, timeout);
        using var store = server.WithPrefix(Guid.NewGuid().ToString("N"));
        ProcessGroup.IsAvailable(ProcessGroupBackend.Nccl).Should().BeTrue("a CUDA build of the shim compiles the NCCL path in");
        using var group = ProcessGroup.Create(ProcessGroupBackend.Nccl, store, 0, 1, timeout);
        body(group);
    }

    [CudaFact]
    public void Every_collective_runs_on_device_tensors()
    {
        WithGroup(group =>
        {
            using var scope = Tensor.NewDisposeScope();
            foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Avg, ReduceOp.Max, ReduceOp.Min })
            {
                var t = Tensor.FromArray(new[] { 1f, -2f, 3.5f }, 3).To(Gpu);
                using (var work = group.AllReduce(t, op))
                {
                    work.Wait();
                    work.IsCompleted.Should().BeTrue();
                }

                t.To(Device.Cpu).ToArray<float>().Should().Equal([1f, -2f, 3.5f], $"{op} over one rank is the identity");
            }

            var a = Tensor.Full([2, 3], 2f, device: Gpu);
            var b = Tensor.Full([5], 3f, device: Gpu);
            using (var work = group.AllReduceCoalesced([a, b]))
            {
                work.Wait();
            }

            a.To(Device.Cpu).ToArray<float>().Should().AllSatisfy(v => v.Should().Be(2f));

            var broadcast = Tensor.Arange(6).To(ScalarType.Float32).To(Gpu);
            using (var work = group.Broadcast(broadcast, 0))
            {
                work.Wait();
            }

            broadcast.To(Device.Cpu).ToArray<float>().Should().Equal(0f, 1f, 2f, 3f, 4f, 5f);

            var input = Tensor.FromArray(new[] { 4f, 5f, 6f }, 3).To(Gpu);
            var gathered = Tensor.Zeros([3], device: Gpu);
            using (var work = group.AllGather(gathered, input))
            {
                work.Wait();
            }

            gathered.To(Device.Cpu).ToArray<float>().Should().Equal(4f, 5f, 6f);

            var scattered = Tensor.Zeros([3], device: Gpu);
            using (var work = group.ReduceScatter(scattered, input, ReduceOp.Avg))
            {
                work.Wait();
            }

            scattered.To(Device.Cpu).ToArray<float>().Should().Equal(4f, 5f, 6f);

            using (var work = group.Barrier())
            {
                work.Wait();
            }
        });
    }

    [CudaFact]
    public void A_wrong_size_is_refused_with_the_rank_and_the_reason()
    {
        WithGroup(group =>
        {
            using var scope = Tensor.NewDisposeScope();
            var input = Tensor.Zeros([3], device: Gpu);
            var output = Tensor.Zeros([4], device: Gpu);
            var act = () => group.AllGather(output, input);
            act.Should().Throw<CollectiveException>().WithMessage("rank 0 of 1: all_gather failed: all_gather output has 4 elements*");
        });
    }
}
