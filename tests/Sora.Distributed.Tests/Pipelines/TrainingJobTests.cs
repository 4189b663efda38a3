using Sora.Data.Video;
using Sora.Distributed.Configuration;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Tests.Support;
using Sora.Distributed.Tests.Training;

namespace Sora.Distributed.Tests.Pipelines;

[Collection(nameof(TrainerTests))]
public sealed class TrainingJobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sora-job-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_small_job_leaves_weights_samples_that_ffprobe_reads_and_a_loss_curve_and_reloads_to_the_same_videos()
    {
        var job = JobConfig.Parse($"""
            name: quick
            output: {_dir}/run
            data:
              samples: 48
              held_out: 4
            vae:
              train:
                steps: 6
                eval_every: 3
            model:
              hidden: 32
              depth: 1
              heads: 2
            train:
              steps: 6
              warmup_steps: 2
              batch_size: 8
              eval_every: 3
            sampling:
              steps: 3
              prompts:
                - a red circle moves right on a black background
                - a blue square on a white background
            """, "quick.yaml");
        var messages = new List<string>();
        var result = new TrainingJob(job, new SyncProgress<string>(messages.Add)).Run();

        var run = new RunDirectory(result.RunDirectory);
        foreach (var file in new[] { run.JobFile, run.VocabularyFile, run.VaeWeights, run.DiTWeights, run.DiTEmaWeights, run.LatentStatisticsFile, run.LossCurve, run.SummaryFile })
        {
            File.Exists(file).Should().BeTrue(file);
        }

        result.DiTHeldOutLoss.Should().HaveCount(2);
        result.Samples.Should().HaveCount(2);
        var probe = Ffmpeg.Default.Probe(result.Samples[0]);
        probe.Frames.Should().Be(8);
        (probe.Width, probe.Height).Should().Be((128, 128), "32x32 videos are written 4x larger");
        Ffmpeg.Default.Probe(Path.ChangeExtension(result.Samples[0], ".gif")).Frames.Should().Be(8);
        messages.Should().Contain(m => m.StartsWith("training the DiT", StringComparison.Ordinal));

        var generator = run.LoadGenerator();
        var again = generator.Generate([job.Sampling.Prompts[0]], 8, 32, 32, job.Seed);
        var written = Ffmpeg.Default.DecodeRaw(result.Samples[0], 128, 128);
        again[0].Upscale(4).Frame(0).Length.Should().Be(written.Frame(0).Length);
        PixelDistance.Between(again[0].Upscale(4), written).Should().BeLessThan(6, "the reloaded EMA model regenerates the sample (up to video compression)");
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
