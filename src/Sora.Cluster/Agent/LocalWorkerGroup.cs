using System.Diagnostics;
using Akka.Actor;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cluster.Agent;

/// <summary>One process of a <see cref="LocalWorkerGroup"/>: how it starts and where its output is kept.</summary>
/// <param name="Start">Its program, arguments and environment (<see cref="WorkerCommandLine.SetEnvironment"/>).</param>
/// <param name="LogFile">Its log.</param>
public sealed record LocalWorker(ProcessStartInfo Start, string LogFile);

/// <summary>
/// Worker processes of this machine run to their end without a coordinator (<c>sora bench parallel</c>'s DDP and FSDP ranks),
/// each owned by a <see cref="WorkerProcess"/> as under an agent: the first that fails stops the others, and the group ends
/// with that rank's exit (or null when every rank exited 0).
/// <para>Supervision: a <see cref="WorkerProcess"/> that throws is stopped, never restarted (its process dies with it), and counts as failed.</para>
/// </summary>
public static class LocalWorkerGroup
{
    /// <summary>Runs <paramref name="workers"/> (rank = index) to their end; <paramref name="output"/> sees their <c>@sora</c> messages. Returns the first failed rank's exit, or null.</summary>
    public static async Task<WorkerExited?> RunAsync(IReadOnlyList<LocalWorker> workers, Action<int, WorkerMessage>? output)
    {
        ArgumentNullException.ThrowIfNull(workers);
        var system = ActorSystem.Create("sora-local", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        try
        {
            var done = new TaskCompletionSource<WorkerExited?>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new Group(workers, output, done)), "workers");
            return await done.Task.ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private sealed class Group : ReceiveActor
    {
        private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

        private readonly IReadOnlyList<LocalWorker> _workers;
        private readonly Action<int, WorkerMessage>? _output;
        private readonly TaskCompletionSource<WorkerExited?> _done;
        private readonly Dictionary<IActorRef, int> _ranks = [];
        private readonly HashSet<int> _exited = [];
        private WorkerExited? _failed;

        public Group(IReadOnlyList<LocalWorker> workers, Action<int, WorkerMessage>? output, TaskCompletionSource<WorkerExited?> done)
        {
            _workers = workers;
            _output = output;
            _done = done;
            Receive<WorkerExited>(OnExited);
            Receive<Terminated>(OnTerminated);
            Receive<WorkerReport>(_ => { });
            Receive<WorkerProcess.ProcessStarted>(_ => { });
            Receive<SampleVideo>(_ => { });
        }

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

        protected override void PreStart()
        {
            for (var rank = 0; rank < _workers.Count; rank++)
            {
                var worker = Context.ActorOf(WorkerProcess.Props(_workers[rank].Start, rank, 0, _workers[rank].LogFile, StopGrace, _output), $"rank-{rank}");
                Context.Watch(worker);
                _ranks[worker] = rank;
            }
        }

        private void OnExited(WorkerExited exited)
        {
            _exited.Add(exited.Rank);
            if (exited.ExitCode != 0 && !exited.Requested)
            {
                Fail(exited);
            }

            if (_exited.Count == _workers.Count)
            {
                _done.TrySetResult(_failed);
                Context.Stop(Self);
            }
        }

        private void OnTerminated(Terminated terminated)
        {
            // A worker actor that stopped without reporting an exit threw (its process could not start, or died with it).
            if (_ranks.TryGetValue(terminated.ActorRef, out var rank) && !_exited.Contains(rank))
            {
                OnExited(new WorkerExited("", 0, rank, 1, false, $"its process could not be started or watched ({_workers[rank].Start.FileName})", _workers[rank].LogFile));
            }
        }

        private void Fail(WorkerExited exited)
        {
            if (_failed is not null)
            {
                return;
            }

            // The others would wait on the failed rank until their collective timeout.
            _failed = exited;
            foreach (var (worker, rank) in _ranks)
            {
                if (!_exited.Contains(rank))
                {
                    worker.Tell(new WorkerProcess.Stop($"rank {exited.Rank} failed", Checkpoint: false));
                }
            }
        }
    }
}
