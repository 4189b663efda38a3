using System.Diagnostics;
using Sora.Checkpoint.Sharded;
using Sora.Data.Loading;
using Sora.Data.Video;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;
using Sora.Distributed.Store;
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
/// the run directory. With a job store (<see cref="CheckpointOptions.Store"/>), the store is the job's truth: both
/// stages checkpoint there, the VAE stage commits its outputs there when it ends (the DiT's checkpoints record the
/// VAE's hash), a later round takes the VAE from there, and rank 0 publishes the run's outputs there (docs/checkpoint-format.md,
/// "A job's store"); the run directory is this node's cache. A stop asked through <see cref="TrainingControl"/> ends
/// the job early without final weights, samples or summary, after the stop step's checkpoint of the stage it is in
/// (<see cref="TrainingJobResult.StoppedAtStep"/>).
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
        var store = _checkpoints?.Store;
        if (IsRankZero)
        {
            run.Create();
            File.WriteAllText(run.JobFile, _job.Source);
            run.SaveDataset(_job.Data);
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
            Barrier();
        }

        var data = VideoSet.Load(_job.Data, _job.Seed, _status);
        var tokenizer = WordTokenizer.Build(data.VocabularyCaptions);
        if (IsRankZero)
        {
            tokenizer.Save(run.VocabularyFile);
        }

        // The VAE stage: taken from the store when it ended in an earlier round, else trained (resuming from its last
        // checkpoint). Every rank reads the store, so every rank takes the same path.
        var ended = store is null ? null : AgreeOnEndedVae(store);
        TrainerState vaeState;
        if (ended is not null)
        {
            _status?.Report($"the VAE stage ended (step {ended.Step}, round {ended.Round}): its outputs come from {store!.DisplayLocation}");
            FetchVaeOutputs(store!, ended, run);
            var loaded = new VideoVae(_job.Vae);
            RunDirectory.LoadWeights(loaded, run.VaeWeights);
            loaded.To(_device);
            vaeState = new TrainerState("vae", loaded, new AdamW(loaded.Parameters(), _job.VaeTraining.LearningRate), null) { Step = _job.VaeTraining.Steps };
        }
        else
        {
            _status?.Report($"training the VAE ({_job.VaeTraining.Steps} steps)");
            RandomState.ManualSeed(_job.Seed);
            using var vaeCheckpointer = store is null ? null : Checkpointer(JobStore.VaeCheckpoints, []);
            vaeState = new Trainer<ClipBatch>(VaeStage.Spec(_job, data), _job.VaeTraining.Trainer, _training, _group, _parallelism, vaeCheckpointer, _control, _device).Run(cancellation);
            if (vaeState.StoppedAt is { } vaeStop)
            {
                _status?.Report($"stopped ({vaeState.StopReason}) after VAE step {vaeStop}: {StopCheckpoint(vaeState, vaeCheckpointer)}");
                vaeState.Optimizer.Dispose();
                vaeState.Model.Dispose();
                return Stopped(run, vaeState, null, "vae", clock.Elapsed);
            }
        }

        using var vae = (VideoVae)vaeState.Model;
        vaeState.Optimizer.Dispose();
        if (IsRankZero && ended is null)
        {
            RunDirectory.SaveWeights(vae, run.VaeWeights, new Dictionary<string, string> { ["steps"] = vaeState.Step.ToString() });
        }

        RandomState.ManualSeed(StageSeed("latents"));
        using var latents = LatentSet.Encode(vae, data, _status, ended is null ? null : run.LoadStatistics());
        if (IsRankZero && ended is null)
        {
            run.SaveStatistics(latents.Statistics);
        }

        // The stage's outputs go into the store before the DiT trains against them; its checkpoints name the VAE by hash.
        if (store is not null && ended is null)
        {
            if (IsRankZero)
            {
                CommitVaeOutputs(store, run);
            }

            Barrier();
            ended = ReadEndedVae(store) ?? throw new InvalidOperationException($"{store.DisplayLocation}/{JobStore.VaeCheckpoints}/latest does not name the VAE stage's outputs after rank 0 committed them");
        }

        var samples = new List<string>();
        void Sample(TrainerState state)
        {
            // The trainer hands over the model holding the EMA weights.
            var generator = new VideoGenerator((VideoDiT)state.Model, vae, tokenizer, latents.Statistics, _job.Flow, _job.Sampling.Options);
            var last = state.Step == _job.Training.Steps;
            samples.AddRange(WriteSamples(generator, run, last ? "final" : $"step-{state.Step:D6}", state.Step));
        }

        _status?.Report($"training the DiT ({_job.Training.Steps} steps)");
        RandomState.ManualSeed(StageSeed("dit"));
        using var checkpointer = store is null ? null
            : Checkpointer(JobStore.DiTCheckpoints, [new CheckpointIdentity(VaeIdentityKey, ended!.Outputs![RunDirectory.VaeWeightsName].Sha256, "the VAE (SHA-256 of vae.safetensors)")]);
        var ditState = _job.Data.Batching.Mode == BatchingMode.Pack
            ? new Trainer<PackedLatentBatch>(PackedDiTStage.Spec(_job, latents, tokenizer, Sample), _job.Training.Trainer, _training, _group, _parallelism, checkpointer, _control, _device).Run(cancellation)
            : new Trainer<LatentBatch>(DiTStage.Spec(_job, latents, tokenizer, Sample), _job.Training.Trainer, _training, _group, _parallelism, checkpointer, _control, _device).Run(cancellation);
        using var dit = (VideoDiT)ditState.Model;
        ditState.Optimizer.Dispose();
        if (ditState.StoppedAt is { } ditStop)
        {
            _status?.Report($"stopped ({ditState.StopReason}) after DiT step {ditStop}: {StopCheckpoint(ditState, checkpointer)}");
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
        if (store is not null)
        {
            _status?.Report($"publishing the run's outputs to {store.DisplayLocation}/{JobStore.RunPrefix}");
            var publishing = Stopwatch.StartNew();
            var (files, bytes) = Wait(store.PublishRunAsync(run.Outputs().Select(file => (file, run.RelativeName(file))), RunDirectory.SummaryName, cancellation));
            _status?.Report($"published {files} file(s), {bytes / 1e6:F1} MB, in {publishing.Elapsed.TotalSeconds:F1} s");
        }

        return result;
    }

    /// <summary>The manifest metadata key of the VAE a DiT checkpoint was trained against.</summary>
    public const string VaeIdentityKey = "vae.sha256";

    private TrainingCheckpointer Checkpointer(string root, IReadOnlyList<CheckpointIdentity> identity)
    {
        var options = _checkpoints!;
        return new TrainingCheckpointer(options.Store.Store, root, options.Every, ConfigHash(_job), options.Resume is null ? null : root == JobStore.DiTCheckpoints ? options.Resume : "latest",
            options.KeepLast, options.KeepEvery, IsRankZero ? _status : null, options.Round)
        {
            Identity = identity,
        };
    }

    /// <summary>The VAE stage's latest pointer when the stage has ended and named its outputs, else null; every rank must read the same.</summary>
    private LatestPointer? AgreeOnEndedVae(JobStore store)
    {
        var ended = ReadEndedVae(store);
        if (_group is null)
        {
            return ended;
        }

        using var scope = Tensor.NewDisposeScope();
        // On the rank's device: NCCL reduces only CUDA tensors.
        var votes = Tensor.FromArray(new[] { ended is null ? 0.0 : 1.0 }, 1).To(_device);
        using (var work = _group.AllReduce(votes))
        {
            work.Wait();
        }

        var count = (int)votes.ToArray<double>()[0];
        return count == 0 || count == _group.WorldSize
            ? ended
            : throw new InvalidOperationException($"rank {_group.Rank}: {count} of {_group.WorldSize} ranks see the VAE stage as ended in {store.DisplayLocation}: the ranks do not read the same store");
    }

    private LatestPointer? ReadEndedVae(JobStore store)
    {
        var pointer = Wait(LatestPointer.ReadAsync(store.Store, new CheckpointLayout(JobStore.VaeCheckpoints)));
        return pointer is { HasCheckpoint: true, Outputs: { } outputs } && pointer.Step == _job.VaeTraining.Steps && RunDirectory.VaeOutputNames.All(outputs.ContainsKey)
            ? pointer
            : null;
    }

    private static void FetchVaeOutputs(JobStore store, LatestPointer ended, RunDirectory run)
    {
        Directory.CreateDirectory(run.Path);
        foreach (var name in RunDirectory.VaeOutputNames)
        {
            Wait(store.FetchOutputAsync(ended.Outputs![name], run.FileOf(name)));
        }
    }

    /// <summary>Rank 0: puts the VAE, latent statistics and vocabulary into the store and names them in the stage's latest (a fenced swap).</summary>
    private void CommitVaeOutputs(JobStore store, RunDirectory run)
    {
        var clock = Stopwatch.StartNew();
        var outputs = RunDirectory.VaeOutputNames.ToDictionary(name => name, name => Wait(store.PutOutputAsync(run.FileOf(name), Path.GetFileNameWithoutExtension(name))), StringComparer.Ordinal);
        var committer = new CheckpointCommitter(store.Store, new CheckpointLayout(JobStore.VaeCheckpoints), round: _checkpoints!.Round);
        Wait(committer.CommitOutputsAsync(_job.VaeTraining.Steps, outputs));
        _status?.Report($"the VAE stage's outputs are committed in {store.DisplayLocation} (vae.safetensors {outputs[RunDirectory.VaeWeightsName].Sha256[..12]}; {outputs.Values.Sum(o => o.Size) / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F1} s)");
    }

    private void Barrier()
    {
        if (_group is null)
        {
            return;
        }

        using var done = _group.Barrier();
        done.Wait();
    }

    /// <summary>
    /// The VAE stage starts from the job's seed and each later step (latent encoding, the DiT) from its own seed derived from
    /// it, so a stage that starts in a later round (after the VAE stage ended in an earlier one) starts as it would have in one run.
    /// </summary>
    private ulong StageSeed(string stage)
    {
        // FNV-1a: stable across processes and runtimes (string.GetHashCode is randomised per process).
        var hash = 14695981039346656037UL;
        foreach (var c in stage)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return _job.Seed ^ hash;
    }

    private string StopCheckpoint(TrainerState state, TrainingCheckpointer? checkpointer) => state.StopCheckpointCommitted switch
    {
        true => $"its checkpoint is committed in {_checkpoints!.Store.DisplayLocation}",
        false => "its checkpoint was NOT committed (see the warning above); latest names the previous one",
        null when checkpointer is null => "no checkpoint (checkpointing is off)",
        null => "rank 0 commits its checkpoint",
    };

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    private static TrainingJobResult Stopped(RunDirectory run, TrainerState vae, TrainerState? dit, string stage, TimeSpan elapsed) =>
        Result(run, vae, dit, [], elapsed) with
        {
            StoppedAtStep = (dit ?? vae).StoppedAt,
            StoppedStage = stage,
            StopCheckpointCommitted = (dit ?? vae).StopCheckpointCommitted,
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

    private List<string> WriteSamples(VideoGenerator generator, RunDirectory run, string folder, long step)
    {
        var sampling = _job.Sampling;
        if (sampling.Prompts.Count == 0)
        {
            return [];
        }

        var directory = Path.Combine(run.SamplesDirectory, folder);
        _status?.Report($"sampling {sampling.Prompts.Count} videos into {directory}");
        Directory.CreateDirectory(directory);
        var clips = generator.Generate(sampling.Prompts, sampling.Frames, sampling.Height, sampling.Width, _job.Seed);
        var written = new List<string>();
        var store = _checkpoints?.Store;
        for (var i = 0; i < clips.Count; i++)
        {
            var stem = Path.Combine(directory, $"{i:D2}-{Evaluation.Slug(sampling.Prompts[i])}");
            _ffmpeg.WriteGif(clips[i], stem + ".gif", sampling.Fps, sampling.Upscale);
            _ffmpeg.WriteMp4(clips[i], stem + ".mp4", sampling.Fps, sampling.Upscale);
            ContactSheet.WritePng(clips[i], stem + ".png", upscale: sampling.Upscale);
            written.Add(stem + ".mp4");
            string? stored = null;
            if (store is not null)
            {
                // The dashboard reads sample videos from the store, never through the control plane.
                foreach (var extension in new[] { ".gif", ".png", ".mp4" })
                {
                    Wait(store.PublishAsync(stem + extension, run.RelativeName(stem + extension)));
                }

                stored = JobStore.RunPrefix + run.RelativeName(stem + ".mp4");
            }

            SampleWritten?.Report(new SampleFile(i, sampling.Prompts[i], step, stem + ".mp4") { Object = stored });
        }

        return written;
    }
}

/// <summary>A sample video training wrote: the prompt's index and text, the DiT step, and the MP4's path.</summary>
public sealed record SampleFile(int Index, string Prompt, long Step, string Path)
{
    /// <summary>The MP4's object name in the job's store (<c>run/samples/…</c>), when the job has a store.</summary>
    public string? Object { get; init; }
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
