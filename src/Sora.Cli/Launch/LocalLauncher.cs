using System.Diagnostics;
using Sora.Distributed.Training;
using Sora.Torch.Distributed;
using Sora.Cluster.Protocol;
using Sora.Cluster.Workers;

namespace Sora.Cli.Launch;

/// <summary>
/// <c>sora train --nproc-per-node N</c> (torchrun's standalone mode): hosts the rendezvous store, starts N
/// worker processes of this same program with their rank, the store's address and a share of the thread
/// budget, relays rank 0's progress to one display, keeps every rank's output in <c>logs/rank-R.log</c>
/// under the run directory, and, when a rank fails, stops the others and reports that rank's error.
/// </summary>
internal sealed class LocalLauncher
{
    private const int TailLines = 30;

    private readonly LaunchOptions _options;

    public LocalLauncher(LaunchOptions options) => _options = options;

    /// <summary>Runs the workers to the end; returns the exit code for the launcher.</summary>
    public LaunchResult Run(IProgress<string> status, IProgress<TrainingProgress> training, CancellationToken cancellation = default)
    {
        var n = _options.ProcessesPerNode;
        using var store = TcpStore.CreateServer("127.0.0.1", 0, _options.Timeout);
        var logDirectory = Path.Combine(_options.RunDirectory, "logs");
        Directory.CreateDirectory(logDirectory);
        var threads = Math.Max(1, _options.TotalThreads / n);
        status.Report($"launching {n} ranks on this machine ({threads} thread{(threads == 1 ? "" : "s")} each), rendezvous at 127.0.0.1:{store.Port}; logs in {logDirectory}");

        var workers = Enumerable.Range(0, n).Select(rank => new Worker(rank, Start(rank, store.Port, threads), Path.Combine(logDirectory, $"rank-{rank}.log"))).ToList();
        try
        {
            foreach (var worker in workers)
            {
                worker.Pump(worker.Rank == 0 ? message =>
                {
                    if (message.Status is { } s)
                    {
                        status.Report(s);
                    }

                    if (message.Progress is { } p)
                    {
                        training.Report(p);
                    }
                }
                : null);
            }

            // The first rank to fail ends the job: the others are killed (they would otherwise wait on
            // it until their collective timeout).
            var pending = workers.ToList();
            while (pending.Count > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                var index = Task.WaitAny(pending.Select(w => w.Exited).ToArray(), TimeSpan.FromMilliseconds(500));
                if (index < 0)
                {
                    continue;
                }

                var done = pending[index];
                pending.RemoveAt(index);
                done.Finish();
                if (done.Process.ExitCode != 0)
                {
                    foreach (var other in pending)
                    {
                        other.Kill();
                    }

                    return new LaunchResult(done.Process.ExitCode, done.Rank, done.Describe());
                }
            }

            return new LaunchResult(0, null, null);
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Kill();
                worker.Dispose();
            }
        }
    }

    private Process Start(int rank, int port, int threads)
    {
        var self = ClusterJob.Self();
        var fileName = self[0];
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in self.Skip(1).Concat(_options.WorkerArguments(rank, port, threads)))
        {
            start.ArgumentList.Add(argument);
        }

        // The thread budget is split between ranks; libgomp and OpenBLAS read these before libtorch loads.
        start.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString();
        start.Environment["OMP_NUM_THREADS"] = threads.ToString();
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        start.Environment["SORA_RANK"] = rank.ToString();
        start.Environment["SORA_LOCAL_RANK"] = rank.ToString();
        start.Environment["SORA_WORLD_SIZE"] = _options.ProcessesPerNode.ToString();
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start rank {rank} ({fileName})");
    }

    private sealed class Worker(int rank, Process process, string logPath) : IDisposable
    {
        private readonly StreamWriter _log = new(logPath) { AutoFlush = true };
        private readonly Queue<string> _tail = new();
        private Task _stdout = Task.CompletedTask;
        private Task _stderr = Task.CompletedTask;

        public int Rank { get; } = rank;

        public Process Process { get; } = process;

        public Task Exited { get; } = process.WaitForExitAsync();

        public void Pump(Action<WorkerMessage>? relay)
        {
            _stdout = Task.Run(() => Read(Process.StandardOutput, relay));
            _stderr = Task.Run(() => Read(Process.StandardError, null));
        }

        /// <summary>Drains the output after exit so the tail is complete.</summary>
        public void Finish() => Task.WaitAll([_stdout, _stderr], TimeSpan.FromSeconds(5));

        public void Kill()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.Kill(entireProcessTree: true);
                    Process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
        }

        public string Describe()
        {
            lock (_tail)
            {
                var how = "ended with " + ExitStatus.Describe(Process.ExitCode);
                var tail = _tail.Count > 0 ? ":\n" + string.Join("\n", _tail) : " and printed nothing";
                return $"rank {Rank} {how}{tail}\n(full output: {logPath})";
            }
        }

        public void Dispose()
        {
            Finish();
            _log.Dispose();
            Process.Dispose();
        }

        private void Read(StreamReader reader, Action<WorkerMessage>? relay)
        {
            while (reader.ReadLine() is { } line)
            {
                var message = WorkerMessages.Parse(line);
                if (message is not null)
                {
                    relay?.Invoke(message);
                    if (message.Status is null)
                    {
                        continue; // progress snapshots would flood the log
                    }
                }

                lock (_tail)
                {
                    _log.WriteLine(line);
                    _tail.Enqueue(line);
                    if (_tail.Count > TailLines)
                    {
                        _tail.Dequeue();
                    }
                }
            }
        }
    }
}

/// <summary>What <see cref="LocalLauncher"/> needs to start workers.</summary>
/// <param name="ProcessesPerNode">Ranks to start.</param>
/// <param name="TotalThreads">Threads of this machine to split between them.</param>
/// <param name="Timeout">Rendezvous and collective timeout.</param>
/// <param name="RunDirectory">Where logs go (the job's output).</param>
/// <param name="WorkerArguments">The command line of rank (rank, store port, threads).</param>
internal sealed record LaunchOptions(int ProcessesPerNode, int TotalThreads, TimeSpan Timeout, string RunDirectory, Func<int, int, int, IEnumerable<string>> WorkerArguments);

/// <summary>How a launch ended: 0, or the failing rank's exit code, rank and error.</summary>
internal sealed record LaunchResult(int ExitCode, int? FailedRank, string? Error);
