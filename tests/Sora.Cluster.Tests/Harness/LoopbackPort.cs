using System.Net;
using System.Net.Sockets;

namespace Sora.Cluster.Tests.Harness;

/// <summary>Free TCP ports on loopback for the processes a test starts.</summary>
internal static class LoopbackPort
{
    /// <summary>A port nothing listens on now (the OS picks it; another process could still take it before the caller binds).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
