using Sora.Checkpoint.Sharded;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Protocol;
using Sora.Metrics.Job;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>
/// An in-memory <c>latest</c> pointer with the fence's rule (a round must be newer than the stored one), faults to
/// inject, and round markers written into <see cref="StoreDirectory"/> when it is set (a directory store) or none (a blob store).
/// </summary>
internal sealed class MemoryLedger : ICheckpointLedger
{
    private readonly Lock _gate = new();
    private long _step;
    private string _stage = "dit";

    public long Round { get; private set; }

    /// <summary>Fences fail as a second coordinator's store would (never retried).</summary>
    public bool FailFence { get; set; }

    /// <summary>This many fence attempts fail with an I/O error first.</summary>
    public int TransientFenceErrors { get; set; }

    public int FenceAttempts { get; private set; }

    /// <summary>Where round markers go; null: the store is not a directory, so there are none.</summary>
    public string? StoreDirectory { get; set; }

    public string Location => "memory";

    /// <summary>Whether the run's outputs are published (what <see cref="CommittedCheckpoint.RunPublished"/> reads).</summary>
    public bool RunPublished { get; set; } = true;

    public void Commit(long step, long round, string stage = "dit")
    {
        lock (_gate)
        {
            _step = step;
            _stage = stage;
            Round = round;
        }
    }

    public Task<CommittedCheckpoint?> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<CommittedCheckpoint?>(Round == 0 && _step == 0 ? null : new CommittedCheckpoint(_step, Round, null) { Stage = _stage, RunPublished = RunPublished });
        }
    }

    public Task<CommittedCheckpoint> FenceAsync(long round, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (++FenceAttempts <= TransientFenceErrors)
            {
                return Task.FromException<CommittedCheckpoint>(new IOException("the disk is on fire"));
            }

            if (FailFence || round <= Round)
            {
                return Task.FromException<CommittedCheckpoint>(new StaleRoundException(round, null, Math.Max(Round, round), "dit/checkpoints/latest", Location));
            }

            Round = round;
            return Task.FromResult(new CommittedCheckpoint(_step, round, null) { Stage = _stage });
        }
    }

    public Task<StoreMarker?> WriteRoundMarkerAsync(long round, CancellationToken cancellationToken = default)
    {
        if (StoreDirectory is null)
        {
            return Task.FromResult<StoreMarker?>(null);
        }

        var path = Path.Combine(StoreDirectory, StoreCheckpointLedger.MarkerName(round));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var nonce = JobKey.NewNonce();
        File.WriteAllText(path, nonce);
        return Task.FromResult<StoreMarker?>(new StoreMarker(path, nonce));
    }
}
