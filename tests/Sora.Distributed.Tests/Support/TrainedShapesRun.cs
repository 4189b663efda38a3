using System.Diagnostics;
using Sora.Data.Dataset;
using Sora.Data.Synthetic;
using Sora.Data.Video;
using Sora.Distributed.Configuration;
using Sora.Distributed.Pipelines;

namespace Sora.Distributed.Tests.Support;

/// <summary>
/// A small run trained once per test class on a narrow moving-shapes dataset: circles in six colours moving left or right
/// over black, 8 frames of 32×32. Trained enough that its plain samples have the caption's colour and direction (24 of 24
/// over two seeds when it was sized), short enough for the suite: 300 VAE and 1,500 DiT steps, most of the time in the DiT.
/// Smaller did not do: 1,000 DiT steps or a 64-wide DiT missed colours, 200 VAE steps reconstructed red half as yellow
/// (and an edit from red to green came out yellow), three colours instead of six left the colour to be settled so late
/// (above t = 0.9) that no edit could change it and keep the clip's place.
/// </summary>
public sealed class TrainedShapesRun : IDisposable
{
    private const int Samples = 512;

    private const int HeldOut = 8;

    private static string Job(string clips, string output) => $"""
        name: trained-shapes
        seed: 3
        threads: 2
        output: {output}
        data:
          source: parquet
          path: {clips}
          held_out: {HeldOut}
        vae:
          preset: patch
          train:
            steps: 300
            batch_size: 8
            lr: 2.0e-3
            min_lr: 2.0e-4
            warmup_steps: 20
        model:
          hidden: 96
          depth: 3
          heads: 4
          train_text_encoder: false
        flow:
          frame_mask_probability: 0.5
          logit_mean: 0.5
        train:
          steps: 1500
          batch_size: 16
          lr: 2.0e-3
          min_lr: 2.0e-4
          warmup_steps: 30
          grad_clip: 1.0
          ema_decay: 0.99
        sampling:
          steps: 12
          guidance_scale: 2
          prompts: []
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("sora-trained-shapes-").FullName;

    public TrainedShapesRun()
    {
        var clock = Stopwatch.StartNew();
        var clips = Path.Combine(_directory, "clips");
        MovingShapesShards.Write(clips, Samples + HeldOut, seed: 3, Shapes, new VideoShardWriterOptions());
        var job = JobConfig.Parse(Job(clips, Path.Combine(_directory, "run")), "trained-shapes.yaml");
        Run = new RunDirectory(new TrainingJob(job).Run().RunDirectory);
        Generator = Run.LoadGenerator();
        TrainingTime = clock.Elapsed;
    }

    /// <summary>What the run trains on.</summary>
    public static MovingShapesOptions Shapes { get; } = MovingShapesOptions.Default with
    {
        Backgrounds = MovingShapesOptions.Default.Backgrounds.Where(b => b.Name == "black").ToArray(),
        Shapes = [ShapeKind.Circle],
        Directions = [MotionDirection.Left, MotionDirection.Right],
        Sizes = [new FrameSize(32, 32)],
        Lengths = [8],
    };

    /// <summary>The palette to measure the run's videos with.</summary>
    public static IReadOnlyDictionary<string, Rgb> Palette => Shapes.ForegroundPalette;

    /// <summary>The run's directory, to load it with other sampling options.</summary>
    public RunDirectory Run { get; }

    /// <summary>The run's EMA model, VAE and tokenizer, sampling as the job says (12 steps, guidance 2).</summary>
    public VideoGenerator Generator { get; }

    /// <summary>How long writing the clips and training took.</summary>
    public TimeSpan TrainingTime { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
