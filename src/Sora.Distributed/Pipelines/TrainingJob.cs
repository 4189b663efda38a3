using System.Diagnostics;
using Sora.Data.Loading;
using Sora.Data.Video;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;
using Sora.Distributed.Training;
using Sora.Model.Dit;
using Sora.Model.Text;
using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.Optim;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// The training job: generate or read the clips, train the VAE, encode latents, train the DiT with an EMA, and leave
/// weights, sample videos and the loss curves in the run directory. Given a process group of several
/// ranks, both stages train data-parallel; every rank prepares the same data, and only rank 0 writes
/// the run directory. A stop asked through <see cref="TrainingControl"/> ends the job early without final weights,
/// samples or summary: at once during the VAE stage (it has no checkpoints), after the stop step's checkpoint
/// during the DiT stage (<see cref="TrainingJobResult.StoppedAtStep"/>).
/// </summary>
public sealed class TrainingJob
{
    private readonly JobConfig _job;
    private readonly IProgress<string>? _status;
    private readonly IProgress<TrainingProgress>? _training;
    private readonly Ffmpeg _ffmpeg;
    private readonly ProcessGroup? _group;
    private readonly DataParallelism _parallelism;
    private readonly CheckpointOptions? _checkpoints;
    private readonly TrainingControl? _control;

    // This rank's device (DevicePlacement; the group was created with its backend): the CPU unless one is given.
    private readonly Device _device;

    public TrainingJob(JobConfig job, IProgress<string>? status = null, IProgress<TrainingProgress>? training = null, Ffmpeg? ffmpeg = null, ProcessGroup? group = null,
        DataParallelism parallelism = DataParallelism.Ddp, CheckpointOptions? checkpoints = null, TrainingControl? control = null, DevicePlacement? placement = null)
    {
        _job = job ?? throw new ArgumentNullException(nameof(job));
        _status = status;
        _training = training;
        _ffmpeg = ffmpeg ?? Ffmpeg.Default;
        _group = group;
        _parallelism = parallelism;
        _checkpoints = checkpoints;
        _control = control;
        _device = (placement ?? DevicePlacement.Cpu).Device;

        // Refused before any stage trains, not when the DiT stage starts.
        StepParallelism.CheckMixedPrecision(job.Training.MixedPrecision, group, parallelism);
    }

    private bool IsRankZero => _group is null || _group.Rank == 0;

    public TrainingJobResult Run(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var run = new RunDirectory(_job.Output);
        if (IsRankZero)
        {
            run.Create();
            File.WriteAllText(run.JobFile, _job.Source);
        }

        TorchRuntime.SetThreads(_job.Threads > 0 ? _job.Threads : Environment.ProcessorCount);
        RandomState.ManualSeed(_job.Seed);

        if (IsRankZero)
        {
            VideoSet.EnsureGenerated(_job.Data, _job.Seed, _status);
        }

        if (_group is not null && _job.Data.Generate)
        {
            // The other ranks read the dataset rank 0 may have just written.
            using var written = _group.Barrier();
            written.Wait();
        }

        var data = VideoSet.Load(_job.Data, _job.Seed, _status);
        var tokenizer = WordTokenizer.Build(data.VocabularyCaptions);
        if (IsRankZero)
        {
            tokenizer.Save(run.VocabularyFile);
        }

        TrainerState vaeState;
        var resumeVae = _checkpoints?.Resume is not null && File.Exists(run.VaeWeights);
        if (resumeVae)
        {
            // Resuming: the VAE this run trained is in the run directory; the DiT resumes from its checkpoint.
            _status?.Report($"resuming: the VAE from {run.VaeWeights}");
            var loaded = new VideoVae(_job.Vae);
            RunDirectory.LoadWeights(loaded, run.VaeWeights);
            loaded.To(_device);
            vaeState = new TrainerState("vae", loaded, new AdamW(loaded.Parameters(), _job.VaeTraining.LearningRate), null) { Step = _job.VaeTraining.Steps };
        }
        else
        {
            _status?.Report($"training the VAE ({_job.VaeTraining.Steps} steps)");
            vaeState = new Trainer<ClipBatch>(VaeStage.Spec(_job, data), _job.VaeTraining.Trainer, _training, _group, _parallelism, control: _control, device: _device).Run(cancellation);
            if (vaeState.StoppedAt is { } vaeStop)
            {
                _status?.Report($"stopped ({vaeState.StopReason}) after VAE step {vaeStop}: the VAE stage has no checkpoints, so a resumed job trains the VAE again");
                vaeState.Optimizer.Dispose();
                vaeState.Model.Dispose();
                return Stopped(run, vaeState, null, "vae", clock.Elapsed);
            }
        }

        using var vae = (VideoVae)vaeState.Model;
        vaeState.Optimizer.Dispose();
        if (IsRankZero && !resumeVae)
        {
            RunDirectory.SaveWeights(vae, run.VaeWeights, new Dictionary<string, string> { ["steps"] = vaeState.Step.ToString() });
        }

        using var latents = LatentSet.Encode(vae, data, _status);
        if (IsRankZero)
        {
            run.SaveStatistics(latents.Statistics);
        }

        var samples = new List<string>();
        void Sample(TrainerState state)
        {
            // The trainer hands over the model holding the EMA weights.
            var generator = new VideoGenerator((VideoDiT)state.Model, vae, tokenizer, latents.Statistics, _job.Flow, _job.Sampling.Options);
            var last = state.Step == _job.Training.Steps;
            samples.AddRange(WriteSamples(generator, Path.Combine(run.SamplesDirectory, last ? "final" : $"step-{state.Step:D6}"), state.Step));
        }

        _status?.Report($"training the DiT ({_job.Training.Steps} steps)");
        using var checkpointer = _checkpoints is null ? null
            : new TrainingCheckpointer(_checkpoints.Store, "dit/checkpoints", _checkpoints.Every, ConfigHash(_job), _checkpoints.Resume, _checkpoints.KeepLast, _checkpoints.KeepEvery, IsRankZero ? _status : null,
                _checkpoints.Round);
        var ditState = _job.Data.Batching.Mode == BatchingMode.Pack
            ? new Trainer<PackedLatentBatch>(PackedDiTStage.Spec(_job, latents, tokenizer, Sample), _job.Training.Trainer, _training, _group, _parallelism, checkpointer, _control, _device).Run(cancellation)
            : new Trainer<LatentBatch>(DiTStage.Spec(_job, latents, tokenizer, Sample), _job.Training.Trainer, _training, _group, _parallelism, checkpointer, _control, _device).Run(cancellation);
        using var dit = (VideoDiT)ditState.Model;
        ditState.Optimizer.Dispose();
        if (ditState.StoppedAt is { } ditStop)
        {
            var saved = ditState.StopCheckpointCommitted switch
            {
                true => $"its checkpoint is committed in {_checkpoints!.Store.Location}",
                false => "its checkpoint was NOT committed (see the warning above); latest names the previous one",
                null when checkpointer is null => "no checkpoint (checkpointing is off)",
                null => "rank 0 commits its checkpoint",
            };
            _status?.Report($"stopped ({ditState.StopReason}) after DiT step {ditStop}: {saved}");
            ditState.Ema?.Dispose();
            return Stopped(run, vaeState, ditState, "dit", clock.Elapsed);
        }

        if (!IsRankZero)
        {
            ditState.Ema?.Dispose();
            return Result(run, vaeState, ditState, samples, clock.Elapsed);
        }

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
        var result = Result(run, vaeState, ditState, samples, clock.Elapsed);
        RunDirectory.WriteJson(run.SummaryFile, result);
        return result;
    }

    private static TrainingJobResult Stopped(RunDirectory run, TrainerState vae, TrainerState? dit, string stage, TimeSpan elapsed) =>
        Result(run, vae, dit, [], elapsed) with
        {
            StoppedAtStep = (dit ?? vae).StoppedAt,
            StoppedStage = stage,
            StopCheckpointCommitted = dit?.StopCheckpointCommitted,
        };

    private static TrainingJobResult Result(RunDirectory run, TrainerState vae, TrainerState? dit, IReadOnlyList<string> samples, TimeSpan elapsed) => new(
        run.Path,
        vae.Step,
        dit?.Step ?? 0,
        vae.HeldOutHistory.LastOrDefault().Loss,
        dit?.HeldOutHistory.Select(h => h.Loss).ToArray() ?? [],
        dit is { LossHistory.Count: > 0 } ? dit.LossHistory.TakeLast(50).Average(l => l.Loss) : double.NaN,
        samples,
        run.LossCurve,
        elapsed,
        dit?.LossHistory.Select(l => l.Loss).ToArray() ?? []);

    /// <summary>The job file's SHA-256: a checkpoint remembers the configuration it was written under.</summary>
    private static string ConfigHash(JobConfig job) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(job.Source)));

    /// <summary>Told of each sample video written (rank 0), so a launcher can show it live.</summary>
    public IProgress<SampleFile>? SampleWritten { get; init; }

    private List<string> WriteSamples(VideoGenerator generator, string directory, long step)
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
            SampleWritten?.Report(new SampleFile(i, sampling.Prompts[i], step, stem + ".mp4"));
        }

        return written;
    }
}

/// <summary>A sample video training wrote: the prompt's index and text, the DiT step, and the MP4's path.</summary>
public sealed record SampleFile(int Index, string Prompt, long Step, string Path);

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
    TimeSpan Elapsed,
    IReadOnlyList<double> DiTLossHistory)
{
    /// <summary>The step the job stopped after on request (of <see cref="StoppedStage"/>), or null when it completed.</summary>
    public long? StoppedAtStep { get; init; }

    /// <summary>"vae" or "dit" when the job stopped on request; null when it completed.</summary>
    public string? StoppedStage { get; init; }

    /// <summary>On rank 0 of a job stopped in the DiT stage with checkpoints: whether the stop step's checkpoint was committed.</summary>
    public bool? StopCheckpointCommitted { get; init; }
}
