using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sora.Netns;

/// <summary>
/// TCP connections of the test host opened from inside a network namespace: a socket belongs to the namespace of the
/// thread that creates it, so a short-lived thread enters the namespace (setns), creates the socket and ends; the
/// socket then connects, reads and writes from any thread. No other thread of the test host changes namespace.
/// </summary>
internal static partial class HostSockets
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>An HTTP handler whose every connection is a socket of the network namespace bound at <paramref name="namespaceFile"/>.</summary>
    public static SocketsHttpHandler Handler(string namespaceFile) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            // The hosts' addresses are IPv4 literals; a name would be resolved by the test host, so it is refused.
            var family = IPAddress.TryParse(context.DnsEndPoint.Host, out var address) ? address.AddressFamily
                : throw new ArgumentException($"connect to the hosts by address, not by name ('{context.DnsEndPoint.Host}')");
            var socket = await CreateAsync(namespaceFile, family).ConfigureAwait(false);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>A new TCP socket of <paramref name="family"/> in the network namespace bound at <paramref name="namespaceFile"/>.</summary>
    public static Task<Socket> CreateAsync(string namespaceFile, AddressFamily family)
    {
        var created = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(namespaceFile);
                if (SetNamespace(handle, CloneNewNet) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    throw new IOException($"setns({namespaceFile}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
                }

                created.SetResult(new Socket(family, SocketType.Stream, ProtocolType.Tcp));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
            {
                created.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns socket",
        };
        thread.Start();
        return created.Task;
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(SafeFileHandle fd, int nsType);
}
