using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Tests.Support;
using Sora.Distributed.Tests.Training;
using Sora.Torch;
using Sora.Torch.Tests.Support;

namespace Sora.Distributed.Tests.Pipelines;

/// <summary>
/// The whole job on a GPU (skipped on CPU-only machines): the VAE stage, the latents, the DiT stage with its held-out
/// losses, and weights that generate the same video reloaded on the CPU as on the device.
/// </summary>
[Collection(nameof(TrainerTests))]
public sealed class CudaTrainingJobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sora-cuda-job-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [CudaFact]
    public void The_job_trains_both_stages_on_the_device_and_its_weights_generate_the_same_video_on_the_cpu()
    {
        var job = JobConfig.Parse($"""
            name: cuda
            device: cuda
            output: {_dir}/run
            data:
              samples: 48
              held_out: 4
              lengths: [8]
            vae:
              train:
                steps: 20
                eval_every: 10
            model:
              hidden: 64
              depth: 2
              heads: 2
            train:
              steps: 20
              warmup_steps: 2
              batch_size: 8
              eval_every: 10
            sampling:
              steps: 4
              prompts: []
            """, "cuda.yaml");
        var placement = DevicePlacement.ForThisProcess(job.Device, localRank: 0).Activate();

        var result = new TrainingJob(job, placement: placement).Run();

        result.DiTHeldOutLoss.Should().HaveCount(2).And.OnlyContain(loss => double.IsFinite(loss) && loss > 0);
        result.VaeHeldOutReconstruction.Should().BeInRange(0, 1);
        var run = new RunDirectory(result.RunDirectory);
        var caption = "a red circle moves right on a black background";
        var onCpu = run.LoadGenerator(device: Device.Cpu).Generate([caption], 8, 32, 32, seed: 5);
        var onGpu = run.LoadGenerator(device: placement.Device).Generate([caption], 8, 32, 32, seed: 5);
        PixelDistance.Between(onGpu[0], onCpu[0]).Should().BeLessThan(2, "the same host-drawn noise through the same weights, up to fp32 kernel differences");
    }
}
