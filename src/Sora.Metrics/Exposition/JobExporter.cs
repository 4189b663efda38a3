using Prometheus;
using Sora.Metrics.Job;

namespace Sora.Metrics.Exposition;

/// <summary>
/// The job's Prometheus exposition (prometheus-net, its own registry: no process metrics of the coordinator mixed in).
/// Job-level series carry the <c>run</c> label; per-rank series carry <c>rank</c> and <c>node</c>; no label takes
/// unbounded values. Counters are job counters (they survive worker restarts: <see cref="JobMetrics"/> turns the ranks'
/// per-process counts into increments). Every metric is listed in docs/metrics.md, and a test holds the two together.
/// Updated by <see cref="JobMetrics.Publish"/> under its lock.
/// </summary>
public sealed class JobExporter
{
    /// <summary>The step-time histogram's buckets (seconds): from a tiny CPU step to a large GPU one.</summary>
    public static readonly double[] StepBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly string[] RunLabel = ["run"];
    private static readonly string[] RankLabels = ["rank", "node"];

    private readonly JobInfo _info;
    private readonly HashSet<(string Rank, string Node)> _rankSeries = [];
    private readonly HashSet<string> _stateSeries = [];
    private readonly HashSet<string[]> _infoSeries = new(new LabelsComparer());

    private readonly Gauge _jobInfo;
    private readonly Gauge _jobState;
    private readonly Gauge _round;
    private readonly Gauge _worldSize;
    private readonly Counter _restarts;
    private readonly Gauge _workers;
    private readonly Counter _steps;
    private readonly Counter _samples;
    private readonly Counter _tokens;
    private readonly Counter _nonFinite;
    private readonly Gauge _step;
    private readonly Gauge _totalSteps;
    private readonly Gauge _loss;
    private readonly Gauge _heldOutLoss;
    private readonly Gauge _gradientNorm;
    private readonly Gauge _learningRate;
    private readonly Gauge _samplesPerSecond;
    private readonly Gauge _flops;
    private readonly Gauge _mfu;
    private readonly Gauge _checkpointStep;
    private readonly Gauge _checkpointTime;
    private readonly Gauge _stragglers;

    private readonly Histogram _rankStepDuration;
    private readonly Gauge _rankPhase;
    private readonly Gauge _rankStep;
    private readonly Counter _rankDataWait;
    private readonly Gauge _rankQueueDepth;
    private readonly Gauge _rankPadding;
    private readonly Gauge _rankFlops;
    private readonly Gauge _rankMfu;
    private readonly Gauge _rankHeartbeat;
    private readonly Gauge _rankResident;
    private readonly Gauge _rankDevice;
    private readonly Gauge _rankStraggler;
    private readonly Gauge _rankStepRatio;
    private readonly Counter _rankSaves;
    private readonly Gauge _rankSaveSeconds;
    private readonly Gauge _rankSaveBytes;
    private readonly Gauge _rankLoadSeconds;
    private readonly Gauge _rankLoadBytes;

    public JobExporter(JobInfo info)
    {
        _info = info ?? throw new ArgumentNullException(nameof(info));
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        Gauge JobGauge(string name, string help, params string[] more) => f.CreateGauge(name, help, [.. RunLabel, .. more]);
        Gauge RankGauge(string name, string help, params string[] more) => f.CreateGauge(name, help, [.. RankLabels, .. more]);

        _jobInfo = JobGauge("sora_job_info", "The job (always 1): its name, model, world size, total steps and software version as labels",
            "job_name", "model", "world_size", "total_steps", "version");
        _jobState = JobGauge("sora_job_state", "1 for the job's current state (rendezvous, running, restarting, stopping, succeeded, stopped, failed)", "state");
        _round = JobGauge("sora_job_round", "The current round (a new round starts after every failure or re-formation)");
        _worldSize = JobGauge("sora_job_world_size", "Ranks in the current round");
        _restarts = f.CreateCounter("sora_job_restarts_total", "Restarts of the job from its last committed checkpoint, by cause", [.. RunLabel, "cause"]);
        _workers = JobGauge("sora_job_workers", "Workers of the current round by state (starting, running, stopped, exited, finished)", "state");
        _steps = f.CreateCounter("sora_train_steps_total", "Optimizer steps taken (steps redone after a restart count again)", RunLabel);
        _samples = f.CreateCounter("sora_train_samples_total", "Training samples of the global batch consumed", RunLabel);
        _tokens = f.CreateCounter("sora_train_tokens_total", "Training tokens (spacetime patches) of the global batch consumed", RunLabel);
        _nonFinite = f.CreateCounter("sora_train_nonfinite_steps_total", "Steps whose loss or gradient norm was not a finite number, summed over ranks", RunLabel);
        _step = JobGauge("sora_train_step", "The training stage's current step (the slowest rank's)", "stage");
        _totalSteps = JobGauge("sora_train_total_steps", "The steps the training stage trains in all", "stage");
        _loss = JobGauge("sora_train_loss", "The last step's training loss (mean over the global batch) in its stage", "stage");
        _heldOutLoss = JobGauge("sora_eval_loss", "The latest held-out loss in its stage", "stage");
        _gradientNorm = JobGauge("sora_train_grad_norm", "The last step's global gradient norm before clipping");
        _learningRate = JobGauge("sora_train_learning_rate", "The last step's learning rate");
        _samplesPerSecond = JobGauge("sora_train_samples_per_second", "Training samples per second of the job over its recent steps");
        _flops = JobGauge("sora_train_model_flops_per_second", "Model FLOP/s the job achieves (forward and backward, summed over ranks)");
        _mfu = JobGauge("sora_train_mfu_ratio", "Model FLOPs utilization: achieved model FLOP/s over the ranks' peak FLOP/s");
        _checkpointStep = JobGauge("sora_checkpoint_last_committed_step", "The step of the stage's last committed checkpoint", "stage");
        _checkpointTime = JobGauge("sora_checkpoint_last_committed_timestamp_seconds", "When the stage's last committed checkpoint was committed (Unix time)", "stage");
        _stragglers = JobGauge("sora_job_stragglers", "Ranks flagged as stragglers now");

        _rankStepDuration = f.CreateHistogram("sora_rank_step_duration_seconds", "Wall time of each optimizer step on a rank",
            new HistogramConfiguration { Buckets = StepBuckets, LabelNames = RankLabels });
        _rankPhase = RankGauge("sora_rank_step_phase_seconds", "The last step's time by phase: data (waiting for the loader), compute (forward and backward), optimizer (clipping, update, EMA), communication (not hidden behind backward)", "phase");
        _rankStep = RankGauge("sora_rank_step", "The rank's last reported step of its stage");
        _rankDataWait = f.CreateCounter("sora_rank_data_wait_seconds_total", "Time a rank waited for the data loader", RankLabels);
        _rankQueueDepth = RankGauge("sora_rank_loader_queue_batches", "Batches ready in the rank's loader queue at its last step");
        _rankPadding = RankGauge("sora_rank_padding_waste_ratio", "Share of the rank's last packed batch that was padding");
        _rankFlops = RankGauge("sora_rank_model_flops_per_second", "Model FLOP/s of a rank over its recent steps");
        _rankMfu = RankGauge("sora_rank_mfu_ratio", "A rank's model FLOP/s over its peak FLOP/s");
        _rankHeartbeat = RankGauge("sora_rank_heartbeat_age_seconds", "Seconds since the rank's agent last reported");
        _rankResident = RankGauge("sora_rank_resident_memory_bytes", "Resident memory of the rank's worker process");
        _rankDevice = RankGauge("sora_rank_device_memory_bytes", "Device (GPU) memory the rank's worker holds; absent on CPU");
        _rankStraggler = RankGauge("sora_rank_straggler", "1 when the rank's busy time per step is at least the straggler ratio times the other ranks' median");
        _rankStepRatio = RankGauge("sora_rank_step_time_ratio", "A rank's busy time per step (the step less exposed communication) over the other ranks' median");
        _rankSaves = f.CreateCounter("sora_rank_checkpoint_saves_total", "Checkpoint shards a rank wrote", RankLabels);
        _rankSaveSeconds = RankGauge("sora_rank_checkpoint_save_duration_seconds", "The rank's last checkpoint save, from the snapshot to its shard written");
        _rankSaveBytes = RankGauge("sora_rank_checkpoint_save_bytes", "Bytes of the rank's last checkpoint shard");
        _rankLoadSeconds = RankGauge("sora_rank_checkpoint_load_duration_seconds", "The rank's checkpoint load when it resumed");
        _rankLoadBytes = RankGauge("sora_rank_checkpoint_load_bytes", "Bytes the rank read when it resumed");
    }

    /// <summary>The registry <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The exposition in Prometheus's text format.</summary>
    public async Task WriteAsync(Stream output, CancellationToken cancellationToken = default) =>
        await Registry.CollectAndExportAsTextAsync(output, cancellationToken).ConfigureAwait(false);

    internal void Update(JobView job, RankView[] ranks, IReadOnlyDictionary<int, RankReport> reports, IReadOnlyList<RankDelta> deltas, IReadOnlyList<CheckpointView> committed)
    {
        var run = _info.Run;
        string[] infoLabels = [run, _info.Job, _info.Model, job.WorldSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _info.TotalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture), _info.Version];
        foreach (var old in _infoSeries.Where(l => !l.SequenceEqual(infoLabels)).ToArray())
        {
            _jobInfo.RemoveLabelled(old);
            _infoSeries.Remove(old);
        }

        _infoSeries.Add(infoLabels);
        _jobInfo.WithLabels(infoLabels).Set(1);
        foreach (var state in _stateSeries.Where(s => s != job.State).ToArray())
        {
            _jobState.RemoveLabelled(run, state);
            _stateSeries.Remove(state);
        }

        _stateSeries.Add(job.State);
        _jobState.WithLabels(run, job.State).Set(1);
        _round.WithLabels(run).Set(job.Round);
        _worldSize.WithLabels(run).Set(job.WorldSize);
        foreach (var kind in RestartCauses.Concat(job.Restarts.Select(r => r.Kind)).Distinct())
        {
            var counted = job.Restarts.Count(r => r.Kind == kind);
            var child = _restarts.WithLabels(run, kind);
            child.IncTo(counted);
        }

        foreach (var state in WorkerStates)
        {
            _workers.WithLabels(run, state).Set(job.Workers.FirstOrDefault(w => w.State == state)?.Count ?? 0);
        }

        var totals = deltas.Where(d => d.Rank == 0).ToArray();
        _steps.WithLabels(run).Inc(totals.Sum(d => d.Steps));
        _samples.WithLabels(run).Inc(totals.Sum(d => d.Samples));
        _tokens.WithLabels(run).Inc(totals.Sum(d => d.Tokens));
        _nonFinite.WithLabels(run).Inc(deltas.Sum(d => d.NonFiniteSteps));
        if (job.Stage.Length > 0)
        {
            _step.WithLabels(run, job.Stage).Set(job.Step);
            _totalSteps.WithLabels(run, job.Stage).Set(job.TotalSteps);
        }

        if (reports.GetValueOrDefault(0)?.Metrics is { StepsTotal: > 0, Stage.Length: > 0 } zero)
        {
            _loss.WithLabels(run, zero.Stage).Set(zero.Loss);
            _gradientNorm.WithLabels(run).Set(zero.GradientNorm);
            _learningRate.WithLabels(run).Set(zero.LearningRate);
        }

        if (job.HeldOutLoss is { } heldOut && job.Stage.Length > 0)
        {
            _heldOutLoss.WithLabels(run, job.Stage).Set(heldOut);
        }

        _samplesPerSecond.WithLabels(run).Set(job.SamplesPerSecond);
        _flops.WithLabels(run).Set(job.ModelFlopsPerSecond);
        if (job.Mfu is { } mfu)
        {
            _mfu.WithLabels(run).Set(mfu);
        }

        foreach (var checkpoint in committed)
        {
            _checkpointStep.WithLabels(run, checkpoint.Stage).Set(checkpoint.Step);
            _checkpointTime.WithLabels(run, checkpoint.Stage).Set(checkpoint.CommittedAt!.Value.ToUnixTimeMilliseconds() / 1000.0);
        }

        _stragglers.WithLabels(run).Set(job.Stragglers.Length);
        UpdateRanks(ranks, reports, deltas);
    }

    private void UpdateRanks(RankView[] ranks, IReadOnlyDictionary<int, RankReport> reports, IReadOnlyList<RankDelta> deltas)
    {
        var current = ranks.Select(r => (Rank: r.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Node)).ToHashSet();
        foreach (var (rank, node) in _rankSeries.Where(s => !current.Contains(s)).ToArray())
        {
            // A rank that is no longer in the round (the world shrank, or it moved node): its series go.
            _rankStepDuration.RemoveLabelled(rank, node);
            foreach (var counter in new[] { _rankDataWait, _rankSaves })
            {
                counter.RemoveLabelled(rank, node);
            }

            foreach (var gauge in new[] { _rankStep, _rankQueueDepth, _rankPadding, _rankFlops, _rankMfu, _rankHeartbeat, _rankResident, _rankDevice,
                         _rankStraggler, _rankStepRatio, _rankSaveSeconds, _rankSaveBytes, _rankLoadSeconds, _rankLoadBytes })
            {
                gauge.RemoveLabelled(rank, node);
            }

            foreach (var phase in Phases)
            {
                _rankPhase.RemoveLabelled(rank, node, phase);
            }

            _rankSeries.Remove((rank, node));
        }

        foreach (var r in ranks)
        {
            var labels = (r.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Node);
            _rankSeries.Add(labels);
            string[] l = [labels.Item1, labels.Node];
            _rankHeartbeat.WithLabels(l).Set(double.IsFinite(r.HeartbeatAgeSeconds) ? r.HeartbeatAgeSeconds : 0);
            _rankResident.WithLabels(l).Set(r.ResidentBytes);
            _rankStraggler.WithLabels(l).Set(r.Straggler ? 1 : 0);
            _rankStepRatio.WithLabels(l).Set(r.StepTimeRatio);
            _rankStep.WithLabels(l).Set(r.Step);
            if (reports.GetValueOrDefault(r.Rank)?.Metrics is not { } m)
            {
                continue;
            }

            if (m.DeviceBytes > 0)
            {
                _rankDevice.WithLabels(l).Set(m.DeviceBytes);
            }

            _rankPhase.WithLabels(labels.Item1, labels.Node, "data").Set(m.DataSeconds);
            _rankPhase.WithLabels(labels.Item1, labels.Node, "compute").Set(m.ComputeSeconds);
            _rankPhase.WithLabels(labels.Item1, labels.Node, "optimizer").Set(m.OptimizerSeconds);
            _rankPhase.WithLabels(labels.Item1, labels.Node, "communication").Set(m.CommunicationSeconds);
            _rankQueueDepth.WithLabels(l).Set(m.LoaderQueueDepth);
            _rankPadding.WithLabels(l).Set(m.PaddingWasteRatio);
            _rankFlops.WithLabels(l).Set(r.ModelFlopsPerSecond);
            if (r.Mfu is { } mfu)
            {
                _rankMfu.WithLabels(l).Set(mfu);
            }

            if (m.CheckpointSaveBytes > 0)
            {
                _rankSaveSeconds.WithLabels(l).Set(m.CheckpointSaveSeconds);
                _rankSaveBytes.WithLabels(l).Set(m.CheckpointSaveBytes);
            }

            if (m.CheckpointLoadBytes > 0)
            {
                _rankLoadSeconds.WithLabels(l).Set(m.CheckpointLoadSeconds);
                _rankLoadBytes.WithLabels(l).Set(m.CheckpointLoadBytes);
            }

            if (deltas.FirstOrDefault(d => d.Rank == r.Rank) is { } delta)
            {
                var histogram = _rankStepDuration.WithLabels(l);
                foreach (var seconds in delta.StepSeconds)
                {
                    histogram.Observe(seconds);
                }

                _rankDataWait.WithLabels(l).Inc(delta.DataWaitSeconds);
                _rankSaves.WithLabels(l).Inc(delta.CheckpointSaves);
            }
        }
    }

    private static readonly string[] Phases = ["data", "compute", "optimizer", "communication"];

    // Every restart cause and worker state has a series from the start (at 0), so rate() and alerts see the first one.
    private static readonly string[] RestartCauses = ["worker-exit", "hang", "node-lost"];
    private static readonly string[] WorkerStates = ["starting", "running", "stopped", "exited", "finished"];

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(string[] obj) => obj.Aggregate(17, (h, s) => (h * 31) + StringComparer.Ordinal.GetHashCode(s));
    }
}
