using Sora.Torch.Tests.Support;
using static Sora.Cli.Tests.Commands.CliRun;
using static Sora.Tests.Common.SoraProcess;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// <c>--device</c> and the job's <c>device</c> key on the commands that run a model: on this machine's CPU-only shim a CUDA
/// device is refused before anything starts or is written, naming why and the fix; <c>--device cpu</c> overrides the job.
/// </summary>
public sealed class DeviceOptionTests : IDisposable
{
    private const string Refusal = "device: cuda is refused: this build of the native shim has no CUDA";
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-device-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SystemLibtorchFact]
    public void Train_with_device_cuda_on_a_cpu_only_build_is_refused_before_anything_starts()
    {
        var job = WriteTinyJob(_directory, ditSteps: 4);
        var output = Path.Combine(_directory, "run");

        var (exit, text) = RunAsync("train", job, "--output", output, "--device", "cuda");

        exit.Should().Be(1);
        OneLine(text).Should().Contain(Refusal).And.Contain("Fix: build the shim against a CUDA libtorch").And.Contain("device: cpu or auto");
        Directory.Exists(output).Should().BeFalse("nothing was started or written");
    }

    [SystemLibtorchFact]
    public void A_job_that_says_cuda_is_refused_by_the_launcher_and_by_launch_before_any_worker_starts()
    {
        var job = WriteTinyJob(_directory, ditSteps: 4, extraYaml: "device: cuda");
        var output = Path.Combine(_directory, "two");

        var (exit, text) = RunAsync("train", job, "--output", output, "--nproc-per-node", "2");
        exit.Should().Be(1);
        OneLine(text).Should().Contain(Refusal);
        Directory.Exists(output).Should().BeFalse("no rank was started");

        (exit, text) = RunAsync("launch", job);
        exit.Should().Be(1);
        OneLine(text).Should().Contain(Refusal);
    }

    [SystemLibtorchFact]
    public void Sample_and_eval_with_device_cuda_are_refused_before_the_run_is_loaded()
    {
        var run = Directory.CreateDirectory(Path.Combine(_directory, "run")).FullName;
        File.Copy(WriteTinyJob(_directory, ditSteps: 4), Path.Combine(run, "job.yaml"));

        var (exit, text) = RunAsync("sample", "--run", run, "--prompt", "a red circle", "--device", "cuda", "--output", Path.Combine(_directory, "samples"));
        exit.Should().Be(1);
        OneLine(text).Should().Contain(Refusal);
        Directory.Exists(Path.Combine(_directory, "samples")).Should().BeFalse();

        (exit, text) = RunAsync("eval", "--run", run, "--device", "cuda");
        exit.Should().Be(1);
        OneLine(text).Should().Contain(Refusal);
    }

    [Fact]
    public void Device_cpu_on_the_command_line_trains_a_job_that_says_cuda_on_the_cpu()
    {
        var job = WriteTinyJob(_directory, ditSteps: 2, vaeSteps: 2, extraYaml: "device: cuda");
        var output = Path.Combine(_directory, "cpu");

        var (exit, text) = RunAsync("train", job, "--output", output, "--device", "cpu");

        exit.Should().Be(0, text);
        File.Exists(Path.Combine(output, "dit-ema.safetensors")).Should().BeTrue();
        File.ReadAllText(Path.Combine(output, "job.yaml")).Should().Contain("device: cuda", "the run keeps the job as written; the override is the command line's");
    }

    [Fact]
    public void An_unknown_device_is_refused_by_the_parser_naming_the_choices()
    {
        var (exit, text) = RunAsync("train", WriteTinyJob(_directory, ditSteps: 2), "--device", "tpu");
        exit.Should().NotBe(0);
        OneLine(text).Should().Contain("tpu");
    }
}
