using Akka.Actor;
using Sora.Cluster.Protocol;

namespace Sora.Cluster.Coordinator;

/// <summary>
/// How a caller in the coordinator's process (the HTTP API, <c>sora bench control-plane</c>, tests) asks the coordinator
/// for its status or stops the job: each command is sealed with the job key's command key (a process without the token
/// cannot send one), and sealed and sent under one lock, so the coordinator sees their sequence numbers in order.
/// </summary>
public sealed class CoordinatorClient(IActorRef coordinator, JobKey key)
{
    private readonly SessionChannel _channel = key.Commands(SessionSide.Agent);
    private readonly Lock _gate = new();

    /// <summary>The job's status.</summary>
    public Task<JobStatus> StatusAsync(TimeSpan timeout) => AskAsync<JobStatus>(GetStatus.Instance, timeout);

    /// <summary>A graceful stop of the job.</summary>
    public Task<StopAccepted> StopAsync(string reason, TimeSpan timeout) => AskAsync<StopAccepted>(new StopJob(reason), timeout);

    /// <summary>A graceful stop, without waiting for the answer.</summary>
    public void Stop(string reason)
    {
        lock (_gate)
        {
            coordinator.Tell(_channel.Seal(new StopJob(reason)));
        }
    }

    private Task<T> AskAsync<T>(object command, TimeSpan timeout)
    {
        lock (_gate)
        {
            return coordinator.Ask<T>(_channel.Seal(command), timeout);
        }
    }
}
