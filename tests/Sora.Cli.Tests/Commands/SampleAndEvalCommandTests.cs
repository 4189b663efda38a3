using System.Text.Json;
using Sora.Data.Video;
using static Sora.Cli.Tests.Commands.CliRun;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// What the README tells a user to run after training: <c>sora sample</c> (plain, conditioned on a given clip, and in the
/// edit, connect and loop modes)
/// and <c>sora eval</c>, on a small run trained by <c>sora train</c> from a Parquet dataset it generates.
/// </summary>
[Collection(nameof(ConsoleOutput))]
public sealed class SampleAndEvalCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-sample-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_trained_run_samples_videos_with_and_without_a_given_clip_and_evaluates_72_prompts()
    {
        var run = Path.Combine(_directory, "run");
        var job = Path.Combine(_directory, "job.yaml");
        File.WriteAllText(job, $"""
            name: cli-quick
            seed: 2
            threads: 2
            output: {run}
            data:
              source: parquet
              path: {Path.Combine(_directory, "clips")}
              generate: true
              samples: 48
              held_out: 4
              sizes: [[32, 32]]
              lengths: [8]
            vae:
              train:
                steps: 6
                batch_size: 4
            model:
              hidden: 32
              depth: 1
              heads: 2
            train:
              steps: 6
              warmup_steps: 2
              batch_size: 8
            sampling:
              steps: 3
              prompts: []
            """);
        var (exit, text) = RunAsync("train", job);
        exit.Should().Be(0, text);

        var plain = Path.Combine(_directory, "plain");
        (exit, text) = RunAsync("sample", "--run", run, "--prompt", "a red circle moves right on a black background", "--prompt", "a blue square moves up on a white background", "--output", plain);
        exit.Should().Be(0, text);
        var first = Path.Combine(plain, "00-red-circle-moves-right-black-background");
        foreach (var extension in new[] { ".mp4", ".gif", ".png" })
        {
            File.Exists(first + extension).Should().BeTrue(first + extension);
        }

        File.Exists(Path.Combine(plain, "01-blue-square-moves-up-white-background.mp4")).Should().BeTrue();
        var probe = Ffmpeg.Default.Probe(first + ".mp4");
        (probe.Frames, probe.Width, probe.Height).Should().Be((8, 128, 128), "8 frames of 32x32, written 4x larger");

        var extended = Path.Combine(_directory, "extended");
        (exit, text) = RunAsync("sample", "--run", run, "--prompt", "a red circle moves right on a black background", "--given", first + ".mp4", "--mode", "extend-forward", "--frames", "8", "--output", extended);
        exit.Should().Be(0, text);
        Ffmpeg.Default.Probe(Path.Combine(extended, "00-red-circle-moves-right-black-background.mp4")).Frames.Should().Be(8);

        var second = Path.Combine(plain, "01-blue-square-moves-up-white-background.mp4");
        foreach (var (mode, options) in new (string, string[])[]
        {
            ("edit", ["--given", first + ".mp4", "--strength", "0.7"]),
            ("connect", ["--given", first + ".mp4", "--given-end", second]),
            ("loop", []),
        })
        {
            var directory = Path.Combine(_directory, mode);
            (exit, text) = RunAsync(["sample", "--run", run, "--prompt", "a blue circle moves right on a black background", "--mode", mode, .. options, "--output", directory]);
            exit.Should().Be(0, text);
            Ffmpeg.Default.Probe(Path.Combine(directory, "00-blue-circle-moves-right-black-background.mp4")).Frames.Should().Be(8, mode);
        }

        (exit, text) = RunAsync("sample", "--run", run, "--prompt", "a red circle", "--given", first + ".mp4", "--mode", "sideways");
        exit.Should().NotBe(0);
        text.Should().Contain("sideways").And.Contain("extend-forward");
        (exit, text) = RunAsync("sample", "--run", run, "--prompt", "a red circle", "--mode", "extend-backward");
        exit.Should().NotBe(0);
        text.Should().Contain("give --given too");

        (exit, text) = RunAsync("eval", "--run", run, "--real", "-1");
        exit.Should().NotBe(0);
        text.Should().Contain("--real must be at least 0");

        Directory.CreateDirectory(Path.Combine(run, "eval"));
        File.WriteAllBytes(Path.Combine(run, "eval", "99-an-earlier-eval.png"), [1, 2, 3]);
        (exit, text) = RunAsync("eval", "--run", run, "--renoise", "0.5");
        exit.Should().NotBe(0);
        text.Should().Contain("give --real N as well");
        (exit, text) = RunAsync("eval", "--run", run, "--real", "4", "--renoise", "1.5");
        exit.Should().NotBe(0);
        text.Should().Contain("--renoise: 1.5 is not a time in (0, 1]");

        (exit, text) = RunAsync("eval", "--run", run, "--real", "12", "--guidance", "3", "--renoise", "0.5", "1");
        exit.Should().Be(0, text);
        text.Should().Contain("redrawn from t = 0.5").And.Contain("redrawn from t = 1");
        foreach (var measurement in new[] { "colour", "direction", "one object", "shape", "background", "clean background" })
        {
            text.Should().Contain($"{measurement} accuracy");
        }

        text.Should().Contain("12 dataset clips").And.Contain("after the VAE");
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json")));
        var root = report.RootElement;
        root.GetProperty("Prompts").GetArrayLength().Should().Be(72, "each of 3 shapes, 6 colours, 4 backgrounds and 4 directions equally often");
        foreach (var accuracy in new[] { "BackgroundAccuracy", "ColorAccuracy", "DirectionAccuracy", "OneObjectAccuracy", "ShapeAccuracy", "CleanBackground" })
        {
            root.GetProperty(accuracy).GetDouble().Should().BeInRange(0, 1, accuracy);
        }

        root.GetProperty("Goals").GetProperty("Shape").GetDouble().Should().Be(0.8);
        root.GetProperty("Goals").GetProperty("CleanBackground").GetDouble().Should().Be(0.98);
        root.GetProperty("Sampling").GetProperty("GuidanceScale").GetDouble().Should().Be(3, "--guidance overrides the job's scale");
        root.GetProperty("Sampling").GetProperty("Steps").GetInt32().Should().Be(3, "the job's steps where --steps is not given");
        var row = root.GetProperty("Prompts")[0];
        foreach (var field in new[] { "ExpectedBackground", "MeasuredBackground", "ExpectedShape", "MeasuredShape", "Objects", "OneObject", "ShapeCorrect", "CleanBackground" })
        {
            row.TryGetProperty(field, out _).Should().BeTrue(field);
        }

        var dataset = root.GetProperty("Dataset");
        dataset.GetProperty("Clips").GetInt32().Should().Be(12);
        dataset.GetProperty("AsDrawn").GetProperty("Shape").GetDouble().Should().Be(1, "the dataset's own clips measure right");
        dataset.GetProperty("AfterVae").GetProperty("Color").GetDouble().Should().BeInRange(0, 1);
        var renoised = dataset.GetProperty("Renoised");
        renoised.EnumerateArray().Select(r => r.GetProperty("Strength").GetDouble()).Should().Equal(0.5, 1.0);
        renoised[0].GetProperty("Accuracy").GetProperty("Shape").GetDouble().Should().BeInRange(0, 1);
        Directory.GetFiles(Path.Combine(run, "eval"), "*.png").Should().HaveCount(72, "an earlier evaluation's sheets are removed");
    }

    [Fact]
    public void Videos_imported_with_data_import_train_with_data_source_parquet()
    {
        // Two "own" videos with sidecar captions, as a user would bring them: 16 frames of 48x32 (portrait).
        var videos = Path.Combine(_directory, "videos");
        Directory.CreateDirectory(videos);
        var generator = new Sora.Data.Synthetic.MovingShapesGenerator(Sora.Data.Synthetic.MovingShapesOptions.Default with { Sizes = [new(48, 32)], Lengths = [16] }, seed: 9);
        for (var i = 0; i < 2; i++)
        {
            var sample = generator.Generate(i);
            Ffmpeg.Default.WriteMp4(sample.Clip, Path.Combine(videos, $"clip{i}.mp4"), fps: 8, upscale: 1);
            File.WriteAllText(Path.Combine(videos, $"clip{i}.txt"), sample.Caption + "\n");
        }

        var dataset = Path.Combine(_directory, "imported");
        var (exit, text) = RunAsync("data", "import", videos, "--output", dataset, "--lengths", "1", "8");
        exit.Should().Be(0, text);

        var run = Path.Combine(_directory, "own");
        var job = Path.Combine(_directory, "own.yaml");
        File.WriteAllText(job, $"""
            name: own-videos
            threads: 2
            output: {run}
            data:
              source: parquet
              path: {dataset}
              held_out: 2
            vae:
              train:
                steps: 3
                batch_size: 2
            model:
              hidden: 32
              depth: 1
              heads: 2
            train:
              steps: 3
              warmup_steps: 1
              batch_size: 2
            sampling:
              steps: 2
              frames: 8
              height: 48
              width: 32
              prompts:
                - a red circle moves left on a navy background
            """);
        (exit, text) = RunAsync("train", job);
        exit.Should().Be(0, text);
        var video = Directory.GetFiles(Path.Combine(run, "samples", "final"), "*.mp4").Single();
        var probe = Ffmpeg.Default.Probe(video);
        (probe.Frames, probe.Width, probe.Height).Should().Be((8, 32 * 4, 48 * 4), "the imported clips' portrait size, written 4x larger");
    }
}
