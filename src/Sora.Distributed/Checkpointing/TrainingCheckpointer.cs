using System.Diagnostics;
using System.Text;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;

namespace Sora.Distributed.Checkpointing;

/// <summary>
/// The trainer's checkpoints of one stage, in a store: every <see cref="Every"/> steps each rank copies its
/// tensor ranges to host memory (the only part the training loop waits for, <see cref="LastBlocking"/>), then
/// hashes and uploads its shard in the background while training goes on, and leaves its shard's description
/// next to it; rank 0 waits for every rank's description, writes the manifest and moves <c>latest</c> (an ETag-guarded
/// put), then applies the retention policy. A failed upload is a warning, not the end of training: the previous
/// committed checkpoint stays <c>latest</c> and the next one is tried as usual. Commits carry the job's round
/// (<see cref="Round"/>): a checkpointer of an ended round is refused (<see cref="StaleRoundException"/>, also a warning);
/// one whose round's fence is not visible in its store (<see cref="FenceNotVisibleException"/>: this node does not see the
/// coordinator's store) fails, since none of its checkpoints could ever be committed.
/// </summary>
public sealed class TrainingCheckpointer : IDisposable
{
    // The rank's checkpoint instruments, read by the metrics pipeline (RankMetricsRecorder): save and load times and sizes.
    private static readonly System.Diagnostics.Metrics.Meter s_meter = new(Training.TrainingMetrics.MeterName);
    private static readonly System.Diagnostics.Metrics.Histogram<double> s_saveSeconds = s_meter.CreateHistogram<double>("sora.checkpoint.save_time", unit: "s",
        description: "A rank's checkpoint save, from the snapshot to its shard written");
    private static readonly System.Diagnostics.Metrics.Histogram<long> s_saveBytes = s_meter.CreateHistogram<long>("sora.checkpoint.save_size", unit: "By",
        description: "Bytes of a rank's checkpoint shard");
    private static readonly System.Diagnostics.Metrics.Histogram<long> s_savedStep = s_meter.CreateHistogram<long>("sora.checkpoint.saved_step",
        description: "The step of the shard a rank just wrote");
    private static readonly System.Diagnostics.Metrics.Histogram<long> s_committedStep = s_meter.CreateHistogram<long>("sora.checkpoint.committed_step",
        description: "The step of the checkpoint rank 0 just committed");
    private static readonly System.Diagnostics.Metrics.Histogram<double> s_loadSeconds = s_meter.CreateHistogram<double>("sora.checkpoint.load_time", unit: "s",
        description: "A rank's checkpoint load on resume");
    private static readonly System.Diagnostics.Metrics.Histogram<long> s_loadBytes = s_meter.CreateHistogram<long>("sora.checkpoint.load_size", unit: "By",
        description: "Bytes a rank loaded on resume");

    private readonly ICheckpointStore _store;
    private readonly CheckpointLayout _layout;
    private readonly ShardedCheckpointWriter _writer;
    private readonly CheckpointCommitter _committer;
    private readonly ShardedCheckpointReader _reader;
    private readonly CheckpointRetention? _retention;
    private readonly IProgress<string>? _status;
    private readonly List<string> _warnings = [];
    private Task? _pending;

    /// <param name="store">Where checkpoints go.</param>
    /// <param name="root">The stage's folder in the store (e.g. <c>dit/checkpoints</c>).</param>
    /// <param name="every">Save after every this many steps (0: never).</param>
    /// <param name="configHash">The job's hash, kept in the manifest.</param>
    /// <param name="resume">null: start fresh; "latest": the newest valid checkpoint; or a step number.</param>
    /// <param name="keepLast">Retention: the newest this many checkpoints are kept (0: keep all).</param>
    /// <param name="keepEvery">Retention: and every checkpoint whose step is a multiple of this (0: none).</param>
    /// <param name="status">Where warnings and commits are reported.</param>
    /// <param name="round">The job's round that fences commits (0: unfenced).</param>
    public TrainingCheckpointer(ICheckpointStore store, string root, long every, string configHash, string? resume = null, int keepLast = 0, long keepEvery = 0, IProgress<string>? status = null,
        long round = 0)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentOutOfRangeException.ThrowIfNegative(every);
        _layout = new CheckpointLayout(root);
        _writer = new ShardedCheckpointWriter(store, _layout);
        _committer = new CheckpointCommitter(store, _layout, round: round);
        _reader = new ShardedCheckpointReader(store, _layout);
        _retention = keepLast > 0 ? new CheckpointRetention(store, _layout) { KeepLast = keepLast, KeepEvery = keepEvery } : null;
        Every = every;
        ConfigHash = configHash;
        Resume = resume;
        _status = status;
    }

    public long Every { get; }

    /// <summary>The round this process's commits belong to.</summary>
    public long Round => _committer.Round;

    public string ConfigHash { get; }

    /// <summary>What to resume from (null: nothing).</summary>
    public string? Resume { get; }

    /// <summary>How long the last save held the training loop (the copy to host memory).</summary>
    public TimeSpan LastBlocking { get; private set; }

    /// <summary>Checkpoints committed by this process (rank 0) so far.</summary>
    public IReadOnlyList<long> Committed => _committed;

    /// <summary>Problems met in the background (failed uploads, fallbacks on load), in order.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return _warnings.ToArray();
            }
        }
    }

    /// <summary>What every checkpoint of this stage records and a resumed one must match (e.g. the VAE the DiT trains against).</summary>
    public IReadOnlyList<CheckpointIdentity> Identity { get; init; } = [];

    /// <summary>The stage's folder in the store.</summary>
    public CheckpointLayout Layout => _layout;

    /// <summary>Rank 0's committer (the round that fences its commits).</summary>
    public CheckpointCommitter Committer => _committer;

    /// <summary>How long rank 0 waits for the other ranks' shards before giving up on a checkpoint.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromMinutes(10);

    private readonly List<long> _committed = [];

    // The previous save's host buffers: Save waits for it (Flush) before capturing, so they are free again.
    private readonly HostBufferPool _buffers = new();

    public bool IsDue(long step) => Every > 0 && step % Every == 0;

    /// <summary>Copies <paramref name="contents"/> to host memory now and writes it in the background (waiting first for the previous save).</summary>
    public void Save(CheckpointContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Flush();
        var clock = Stopwatch.StartNew();
        var snapshot = ShardSnapshot.Capture(contents, _buffers);
        LastBlocking = clock.Elapsed;
        _pending = Task.Run(() => WriteAsync(snapshot, clock));
    }

    /// <summary>How many saves in a row may fail (each a warning; the store's client has already retried it) before the next failure ends training.</summary>
    public int MaxFailedSaves { get; init; } = 3;

    /// <summary>
    /// Waits for the save in flight. A failure is a warning (the previous checkpoint stays latest), unless it is the
    /// <see cref="MaxFailedSaves"/>-th in a row or <paramref name="required"/> (a stage's last step, whose commit ends the
    /// stage): then the storage error ends training, so the round fails with it rather than training on without checkpoints.
    /// </summary>
    public void Flush(bool required = false)
    {
        var pending = _pending;
        _pending = null;
        if (pending is null)
        {
            return;
        }

        try
        {
            pending.GetAwaiter().GetResult();
            _failedSaves = 0;
        }
        catch (StaleRoundException error)
        {
            Warn($"checkpoint not committed: {error.Message}");
        }
        catch (FenceNotVisibleException)
        {
            // This node can never commit into the coordinator's store: training on would only lose the work.
            throw;
        }
        catch (Exception error) when (error is IOException or CheckpointStoreException or TimeoutException or InvalidOperationException or UnauthorizedAccessException)
        {
            _failedSaves++;
            if (required || _failedSaves >= MaxFailedSaves)
            {
                throw new CheckpointStoreException(
                    (required ? "the stage's last checkpoint could not be saved" : $"{_failedSaves} checkpoints in a row could not be saved") + $" to {_store.Location}: {error.Message}", error);
            }

            Warn($"checkpoint not saved ({_failedSaves} in a row; at {MaxFailedSaves} training stops): {error.Message}");
        }
    }

    private int _failedSaves;

    /// <summary>
    /// The checkpoint <see cref="Resume"/> names with the ranges asked for, or null when there is nothing to resume
    /// ("latest" in an empty store starts fresh). A corrupt latest checkpoint falls back to the previous valid one,
    /// with a warning naming the shard.
    /// </summary>
    public LoadedCheckpoint? Load(IReadOnlyList<TensorRequest> requests)
    {
        if (Resume is null)
        {
            return null;
        }

        LoadedCheckpoint? loaded;
        var clock = Stopwatch.StartNew();
        if (string.Equals(Resume, "latest", StringComparison.OrdinalIgnoreCase))
        {
            loaded = _reader.LoadLatestValidAsync(requests).GetAwaiter().GetResult();
            foreach (var warning in loaded?.Warnings ?? [])
            {
                Warn(warning);
            }
        }
        else if (long.TryParse(Resume, out var step) && step > 0)
        {
            loaded = _reader.LoadAsync(step, requests).GetAwaiter().GetResult();
        }
        else
        {
            throw new ArgumentException($"--resume: expected 'latest' or a step number, got '{Resume}'");
        }

        if (loaded is not null)
        {
            s_loadSeconds.Record(clock.Elapsed.TotalSeconds, StageTag);
            s_loadBytes.Record(loaded.Tensors.Values.Sum(t => t.ByteCount), StageTag);
        }

        if (loaded is not null)
        {
            CheckIdentity(loaded);
        }

        if (loaded is not null && loaded.Manifest.ConfigHash != ConfigHash)
        {
            Warn($"resuming step {loaded.Step} written under another configuration (hash {loaded.Manifest.ConfigHash}, now {ConfigHash})");
        }

        return loaded;
    }

    public void Dispose() => Flush();

    private void CheckIdentity(LoadedCheckpoint loaded)
    {
        foreach (var identity in Identity)
        {
            if (!loaded.Manifest.Metadata.TryGetValue(identity.Key, out var recorded))
            {
                Warn($"resuming step {loaded.Step} of {_layout.Root}, which does not record {identity.Key} (written by an older version): cannot check it was trained against {identity.What} {identity.Value}");
            }
            else if (recorded != identity.Value)
            {
                loaded.Dispose();
                throw new CheckpointIdentityException(
                    $"cannot resume step {loaded.Step} of {_store.Location}/{_layout.Root}: it was trained against {identity.What} {recorded} ({identity.Key}), but this run's is {identity.Value}. "
                    + $"Resuming would train on against another {identity.What}: start the stage anew (remove {_layout.Root} from the store) or restore {identity.What} it was trained with");
            }
        }
    }

    private async Task WriteAsync(ShardSnapshot snapshot, Stopwatch clock)
    {
        try
        {
            await WriteAndCommitAsync(snapshot, clock).ConfigureAwait(false);
        }
        finally
        {
            _buffers.Return(snapshot);
        }
    }

    private async Task WriteAndCommitAsync(ShardSnapshot snapshot, Stopwatch saveClock)
    {
        var header = snapshot.Header;
        var info = await _writer.WriteShardAsync(snapshot).ConfigureAwait(false);
        await _store.PutBytesAsync(InfoName(header.Step, header.Rank), Encoding.UTF8.GetBytes(info.ToJson())).ConfigureAwait(false);
        s_saveSeconds.Record(saveClock.Elapsed.TotalSeconds, StageTag);
        s_saveBytes.Record(snapshot.DataBytes, StageTag);
        s_savedStep.Record(header.Step, StageTag);
        if (header.Rank != 0)
        {
            return;
        }

        var infos = new string[header.WorldSize];
        var clock = Stopwatch.StartNew();
        for (var rank = 0; rank < header.WorldSize; rank++)
        {
            while (true)
            {
                var name = InfoName(header.Step, rank);
                if (await _store.ExistsAsync(name).ConfigureAwait(false))
                {
                    infos[rank] = Encoding.UTF8.GetString(await _store.ReadAllBytesAsync(name).ConfigureAwait(false));
                    break;
                }

                if (clock.Elapsed > CommitTimeout)
                {
                    throw new TimeoutException($"step {header.Step}: rank {rank}'s shard did not arrive within {CommitTimeout}; the checkpoint is not committed");
                }

                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        await _committer.CommitAsync(header, infos).ConfigureAwait(false);
        lock (_committed)
        {
            _committed.Add(header.Step);
        }

        s_committedStep.Record(header.Step, StageTag);

        _status?.Report($"checkpoint step {header.Step} committed ({snapshot.DataBytes / 1e6:F1} MB from rank 0, {LastBlocking.TotalMilliseconds:F0} ms blocking)");
        if (_retention is not null)
        {
            await _retention.PruneAsync().ConfigureAwait(false);
        }
    }

    private string InfoName(long step, int rank) => _layout.StepPrefixOf(step) + $"shard-{rank:D5}.info.json";

    /// <summary>The stage these checkpoints belong to (<c>vae/checkpoints</c> → <c>vae</c>), on every instrument it records.</summary>
    private KeyValuePair<string, object?> StageTag => new(Sora.Metrics.Pipeline.RankMetricsRecorder.StageTag, _layout.Root.Split('/')[0]);

    private void Warn(string message)
    {
        lock (_warnings)
        {
            _warnings.Add(message);
        }

        _status?.Report("warning: " + message);
    }
}
