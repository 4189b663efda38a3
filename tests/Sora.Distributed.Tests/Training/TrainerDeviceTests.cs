using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.Tests.Distributed;
using static Sora.Distributed.Tests.Support.TensorRegression;

namespace Sora.Distributed.Tests.Training;

/// <summary>
/// The trainer's device path, driven on the CPU: batches go through the spec's ToDevice after the rank's share, the
/// model and the totals are placed on the trainer's device, and a checkpoint holds host tensors and the CPU generator
/// only, so it resumes on any device (the GPU half of that is <see cref="CudaTrainerTests"/>).
/// </summary>
[Collection(nameof(TrainerTests))]
public sealed class TrainerDeviceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-device-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_spec_without_ToDevice_cannot_train_off_the_cpu()
    {
        var act = () => new Trainer<RegressionBatch>(Spec() with { ToDevice = null }, new TrainerOptions { Steps = 1 }, device: Device.Cuda(0));

        act.Should().Throw<ArgumentException>().WithMessage("regression: training on cuda:0 needs the spec's ToDevice*");
    }

    [Fact]
    public void Each_rank_s_share_of_every_micro_batch_goes_to_its_device_and_on_the_cpu_trains_as_drawn()
    {
        var options = new TrainerOptions { Steps = 3, GradientAccumulation = 2, GradientClip = 0 };
        var moves = new List<(int Rank, long Rows, Device Device)>[2];
        var weights = new float[2][];
        LocalRanks.Run(2, group =>
        {
            var seen = moves[group.Rank] = [];
            var state = new Trainer<RegressionBatch>(Spec((batch, device) => seen.Add((group.Rank, batch.X.Size(0), device)), noise: false), options, group: group, device: Device.Cpu).Run();
            using var model = state.Model;
            state.Optimizer.Dispose();
            weights[group.Rank] = Weights(model);
        });

        // The same global batches without any device step, on one process.
        var alone = new Trainer<RegressionBatch>(Spec(noise: false) with { ToDevice = null }, options).Run();
        using var reference = alone.Model;
        alone.Optimizer.Dispose();

        moves[0].Should().HaveCount(6, "every micro-batch of every step").And.OnlyContain(m => m.Rows == 6 && m.Device == Device.Cpu, "the rank's half of 12 rows");
        moves[1].Should().HaveCount(6);
        weights[0].Should().Equal(Weights(reference), (a, b) => Math.Abs(a - b) <= 1e-5f * (1 + Math.Abs(b)), "two halves on the CPU train what one process trains");
        weights[1].Should().Equal(weights[0], "replicas stay equal");
    }

    [Fact]
    public async Task A_checkpoint_written_through_the_device_path_holds_host_tensors_and_the_cpu_generator_and_resumes_exactly()
    {
        var whole = TrainWithCheckpoints(Device.Cpu, Path.Combine(_directory, "whole"), resume: null, steps: 6);

        var store = Path.Combine(_directory, "resumed");
        TrainWithCheckpoints(Device.Cpu, store, resume: null, steps: 3);
        var reader = new ShardedCheckpointReader(new LocalDirectoryStore(store), new CheckpointLayout(CheckpointRoot));
        var manifest = await reader.ReadManifestAsync(3);
        manifest.Shards.Should().ContainSingle().Which.GeneratorStates.Keys.Should().Equal(["cpu"],
            "every random draw of a batch is made on the host generator, so no device's generator is part of the state");
        using (var loaded = await reader.LoadAsync(3, manifest.Tensors.Select(t => TensorRequest.Full(t.Name)).ToArray()))
        {
            loaded.Tensors.Values.Should().OnlyContain(t => t.Device == Device.Cpu, "a checkpoint is read into host memory and copied onto whatever device the rank has");
        }

        var resumed = TrainWithCheckpoints(Device.Cpu, store, resume: "3", steps: 6);

        resumed.Should().Equal(whole, "resumed on the same device path, the run ends bit for bit where the uninterrupted one does");
    }
}
