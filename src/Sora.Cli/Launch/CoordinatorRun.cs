using System.Runtime.InteropServices;
using Sora.Cluster.Agent;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Hosting;
using Sora.Torch.Distributed;

namespace Sora.Cli.Launch;

/// <summary>
/// Runs a job's coordinator in this process until the job ends: the c10d rendezvous store, the control plane and its HTTP
/// API, and, with a local agent, this machine's workers; Ctrl+C or SIGTERM stops the job gracefully. The one path of
/// <c>sora launch</c>, <c>sora coordinator</c> and <c>sora train --nproc-per-node</c>.
/// </summary>
internal static class CoordinatorRun
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(300);

    /// <summary>Runs the job; <paramref name="spec"/> makes its spec from the store's port, <paramref name="started"/> is told the API's address and that port once everything listens.</summary>
    public static async Task<(bool Success, string Message)> RunAsync(CoordinatorEndpoints endpoints, int storePort, Func<int, JobSpec> spec, ICheckpointLedger ledger, string token,
        IJobEvents events, AgentOptions? localAgent, Action<CoordinatorStarted, int> started)
    {
        using var store = CreateStore(endpoints.BindHost, storePort);
        using var interrupt = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
        return await ControlPlaneHost.RunCoordinatorAsync(endpoints, spec(store.Port), ledger, token, events, localAgent, s => started(s, store.Port), interrupt.Token).ConfigureAwait(false);
    }

    private static TcpStore CreateStore(string host, int port)
    {
        try
        {
            return TcpStore.CreateServer(host, port, StoreTimeout);
        }
        catch (Exception error) when (error is Sora.Torch.TorchException or InvalidOperationException)
        {
            throw new ArgumentException($"cannot start the rendezvous store on {host}:{port} (--store-port): {error.Message}", error);
        }
    }
}
