using System.Diagnostics;
using Sora.Data.Synthetic;
using Sora.Data.Video;
using Sora.Distributed.Configuration;
using Sora.Distributed.Training;
using Sora.Model.Dit;
using Sora.Model.Text;
using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// The single-process training job: generate data, train the VAE, encode latents, train the DiT with an
/// EMA, and leave weights, sample videos and the loss curves in the run directory.
/// </summary>
public sealed class TrainingJob
{
    private readonly JobConfig _job;
    private readonly IProgress<string>? _status;
    private readonly IProgress<TrainingProgress>? _training;
    private readonly Ffmpeg _ffmpeg;

    public TrainingJob(JobConfig job, IProgress<string>? status = null, IProgress<TrainingProgress>? training = null, Ffmpeg? ffmpeg = null)
    {
        _job = job ?? throw new ArgumentNullException(nameof(job));
        _status = status;
        _training = training;
        _ffmpeg = ffmpeg ?? Ffmpeg.Default;
    }

    public TrainingJobResult Run(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var run = new RunDirectory(_job.Output);
        run.Create();
        File.WriteAllText(run.JobFile, _job.Source);
        TorchRuntime.SetThreads(_job.Threads > 0 ? _job.Threads : Environment.ProcessorCount);
        RandomState.ManualSeed(_job.Seed);

        var data = SyntheticVideoSet.Generate(_job.Data, _job.Seed, _status);
        var tokenizer = WordTokenizer.Build(data.Train.Select(s => s.Caption).Concat(data.Generator.EvalPrompts().Select(p => p.Caption)));
        tokenizer.Save(run.VocabularyFile);

        _status?.Report($"training the VAE ({_job.VaeTraining.Steps} steps)");
        var vaeState = new Trainer<Tensor>(VaeStage.Spec(_job, data), _job.VaeTraining.Trainer, _training).Run(cancellation);
        using var vae = (VideoVae)vaeState.Model;
        vaeState.Optimizer.Dispose();
        RunDirectory.SaveWeights(vae, run.VaeWeights, new Dictionary<string, string> { ["steps"] = vaeState.Step.ToString() });

        using var latents = LatentSet.Encode(vae, data, _status);
        run.SaveStatistics(latents.Statistics);

        using var emaModel = new VideoDiT(_job.Model, tokenizer.VocabularySize);
        var samples = new List<string>();
        void Sample(TrainerState state)
        {
            state.Ema?.CopyTo(emaModel);
            var generator = new VideoGenerator(state.Ema is null ? (VideoDiT)state.Model : emaModel, vae, tokenizer, latents.Statistics, _job.Flow, _job.Sampling.Options);
            var last = state.Step == _job.Training.Steps;
            samples.AddRange(WriteSamples(generator, Path.Combine(run.SamplesDirectory, last ? "final" : $"step-{state.Step:D6}")));
        }

        _status?.Report($"training the DiT ({_job.Training.Steps} steps)");
        var ditState = new Trainer<LatentBatch>(DiTStage.Spec(_job, latents, tokenizer, Sample), _job.Training.Trainer, _training).Run(cancellation);
        using var dit = (VideoDiT)ditState.Model;
        ditState.Optimizer.Dispose();
        RunDirectory.SaveWeights(dit, run.DiTWeights, new Dictionary<string, string> { ["steps"] = ditState.Step.ToString() });
        if (ditState.Ema is { } ema)
        {
            using (var scope = Tensor.NewDisposeScope())
            {
                RunDirectory.SaveWeights(ema.StateDict(), run.DiTEmaWeights, new Dictionary<string, string> { ["steps"] = ditState.Step.ToString() });
            }

            ema.Dispose();
        }
        else
        {
            File.Copy(run.DiTWeights, run.DiTEmaWeights, overwrite: true);
        }

        LossCurves.Write(run.LossCurve, vaeState, ditState);
        var result = new TrainingJobResult(
            run.Path,
            vaeState.Step,
            ditState.Step,
            vaeState.HeldOutHistory.LastOrDefault().Loss,
            ditState.HeldOutHistory.Select(h => h.Loss).ToArray(),
            ditState.LossHistory.Count > 0 ? ditState.LossHistory.TakeLast(50).Average(l => l.Loss) : double.NaN,
            samples,
            run.LossCurve,
            clock.Elapsed);
        RunDirectory.WriteJson(run.SummaryFile, result);
        return result;
    }

    private List<string> WriteSamples(VideoGenerator generator, string directory)
    {
        var sampling = _job.Sampling;
        if (sampling.Prompts.Count == 0)
        {
            return [];
        }

        _status?.Report($"sampling {sampling.Prompts.Count} videos into {directory}");
        Directory.CreateDirectory(directory);
        var clips = generator.Generate(sampling.Prompts, sampling.Frames, sampling.Height, sampling.Width, _job.Seed);
        var written = new List<string>();
        for (var i = 0; i < clips.Count; i++)
        {
            var stem = Path.Combine(directory, $"{i:D2}-{Evaluation.Slug(sampling.Prompts[i])}");
            _ffmpeg.WriteGif(clips[i], stem + ".gif", sampling.Fps, sampling.Upscale);
            _ffmpeg.WriteMp4(clips[i], stem + ".mp4", sampling.Fps, sampling.Upscale);
            ContactSheet.WritePng(clips[i], stem + ".png", upscale: sampling.Upscale);
            written.Add(stem + ".mp4");
        }

        return written;
    }
}

/// <summary>What a training job produced.</summary>
public sealed record TrainingJobResult(
    string RunDirectory,
    long VaeSteps,
    long DiTSteps,
    double VaeHeldOutReconstruction,
    IReadOnlyList<double> DiTHeldOutLoss,
    double DiTFinalTrainingLoss,
    IReadOnlyList<string> Samples,
    string LossCurve,
    TimeSpan Elapsed);
