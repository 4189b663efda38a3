using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.Tests.Support;

namespace Sora.Distributed.Tests.Devices;

/// <summary>The one place a rank's device and backend are chosen, driven with every input it depends on.</summary>
public sealed class DevicePlacementTests
{
    [Theory]
    [InlineData(0, DeviceSetting.Cpu, false, 0, "cpu", ProcessGroupBackend.Gloo)]
    [InlineData(3, DeviceSetting.Cpu, true, 8, "cpu", ProcessGroupBackend.Gloo)]
    [InlineData(0, DeviceSetting.Auto, false, 0, "cpu", ProcessGroupBackend.Gloo)]
    [InlineData(1, DeviceSetting.Auto, false, 4, "cpu", ProcessGroupBackend.Gloo)]
    [InlineData(1, DeviceSetting.Auto, true, 0, "cpu", ProcessGroupBackend.Gloo)]
    [InlineData(0, DeviceSetting.Auto, true, 1, "cuda:0", ProcessGroupBackend.Nccl)]
    [InlineData(5, DeviceSetting.Auto, true, 8, "cuda:5", ProcessGroupBackend.Nccl)]
    [InlineData(0, DeviceSetting.Cuda, true, 2, "cuda:0", ProcessGroupBackend.Nccl)]
    [InlineData(7, DeviceSetting.Cuda, true, 8, "cuda:7", ProcessGroupBackend.Nccl)]
    public void Each_rank_gets_cuda_of_its_local_rank_with_nccl_or_the_cpu_with_gloo(int localRank, DeviceSetting setting, bool cudaBuild, int visible, string device, ProcessGroupBackend backend)
    {
        var placement = DevicePlacement.Choose(localRank, setting, cudaBuild, visible);

        placement.Device.Should().Be(Device.Parse(device));
        placement.Backend.Should().Be(backend);
        placement.IsCuda.Should().Be(backend == ProcessGroupBackend.Nccl);
    }

    [Fact]
    public void Cuda_on_a_build_without_cuda_is_refused_naming_why_and_the_fix()
    {
        var act = () => DevicePlacement.Choose(0, DeviceSetting.Cuda, buildHasCuda: false, visibleDevices: 0);

        var refusal = act.Should().Throw<DeviceRefusedException>().Which;
        refusal.Reason.Should().Contain("no CUDA").And.Contain("CPU-only libtorch");
        refusal.Fix.Should().Contain("SORA_TORCH_ROOT").And.Contain("docs/native-boundary.md").And.Contain("device: cpu");
        refusal.Message.Should().StartWith("device: cuda is refused: ");
        refusal.Should().BeAssignableTo<ConfigException>("a configuration that fails the same way every time");
    }

    [Fact]
    public void Cuda_with_no_device_visible_is_refused_naming_why_and_the_fix()
    {
        var act = () => DevicePlacement.Choose(0, DeviceSetting.Cuda, buildHasCuda: true, visibleDevices: 0);

        var refusal = act.Should().Throw<DeviceRefusedException>().Which;
        refusal.Reason.Should().Contain("no CUDA device is visible").And.Contain("CUDA_VISIBLE_DEVICES");
        refusal.Fix.Should().Contain("nvidia-smi").And.Contain("device: cpu");
    }

    [Theory]
    [InlineData(DeviceSetting.Cuda)]
    [InlineData(DeviceSetting.Auto)]
    public void A_cuda_rank_without_a_device_of_its_own_is_refused(DeviceSetting setting)
    {
        var act = () => DevicePlacement.Choose(2, setting, buildHasCuda: true, visibleDevices: 2);

        var refusal = act.Should().Throw<DeviceRefusedException>().Which;
        refusal.Reason.Should().Contain("local rank 2 needs cuda:2 but 2 CUDA devices are visible");
        refusal.Fix.Should().Contain("--nproc-per-node 2");
    }

    [Theory]
    [InlineData(DeviceSetting.Auto, true, 8, 8)]
    [InlineData(DeviceSetting.Cuda, true, 4, 4)]
    [InlineData(DeviceSetting.Auto, false, 0, 1)]
    [InlineData(DeviceSetting.Auto, true, 0, 1)]
    [InlineData(DeviceSetting.Cpu, true, 8, 1)]
    public void Workers_per_node_default_to_the_visible_devices_when_the_job_trains_on_cuda(DeviceSetting setting, bool cudaBuild, int visible, int expected)
    {
        DevicePlacement.DefaultProcessesPerNode(setting, cudaBuild, visible).Should().Be(expected);
    }

    [Fact]
    public void The_default_worker_count_refuses_what_the_choice_refuses()
    {
        var act = () => DevicePlacement.DefaultProcessesPerNode(DeviceSetting.Cuda, buildHasCuda: false, visibleDevices: 0);
        act.Should().Throw<DeviceRefusedException>();
    }

    [Theory]
    [InlineData(null, 3, 3)]
    [InlineData("", 3, 3)]
    [InlineData("5", 0, 5)]
    [InlineData("0", 2, 0)]
    public void A_worker_s_local_rank_is_the_agent_s_variable_else_its_rank(string? value, int fallback, int expected)
    {
        DevicePlacement.LocalRank(value, fallback).Should().Be(expected);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("one")]
    public void A_malformed_local_rank_names_the_variable(string value)
    {
        var act = () => DevicePlacement.LocalRank(value, 0);
        act.Should().Throw<ArgumentException>().WithMessage($"SORA_LOCAL_RANK={value}: must be a non-negative integer*");
    }

    [SystemLibtorchFact]
    public void On_this_cpu_only_build_auto_trains_on_the_cpu_and_cuda_is_refused_for_the_build()
    {
        DevicePlacement.ForThisProcess(DeviceSetting.Auto, localRank: 0).Should().Be(DevicePlacement.Cpu);
        DevicePlacement.DefaultProcessesPerNode(DeviceSetting.Auto).Should().Be(1);

        var act = () => DevicePlacement.ForThisProcess(DeviceSetting.Cuda, localRank: 0);
        act.Should().Throw<DeviceRefusedException>().Which.Reason.Should().Contain("no CUDA");
    }

    [CudaFact]
    public void On_a_gpu_machine_rank_zero_gets_cuda_zero_with_nccl_and_it_becomes_current()
    {
        var placement = DevicePlacement.ForThisProcess(DeviceSetting.Auto, localRank: 0).Activate();

        placement.Should().Be(new DevicePlacement(Device.Cuda(0), ProcessGroupBackend.Nccl));
        DevicePlacement.DefaultProcessesPerNode(DeviceSetting.Auto).Should().Be(TorchRuntime.CudaDeviceCount);
    }
}
