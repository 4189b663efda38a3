using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Storage;
using Sora.Checkout;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// Azurite, the local Azure Blob service (npm <c>azurite</c>, installed into tools/node by scripts/bootstrap.sh), as a
/// child process on a free loopback port with a disk-backed location: for tests, <c>sora bench checkpoint</c> and
/// local runs. It can be killed, stopped and restarted on the same port and location, as a failing service would be.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _executable;
    private readonly bool _ownsLocation;
    private readonly IReadOnlyList<string> _options;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AzuriteProcess(string executable, int port, string location, bool ownsLocation, IReadOnlyList<string> options)
    {
        _executable = executable;
        _ownsLocation = ownsLocation;
        _options = options;
        Port = port;
        Location = location;
    }

    /// <summary>The loopback port the blob service listens on (the same after a restart).</summary>
    public int Port { get; }

    /// <summary>The folder Azurite keeps its blobs and metadata in.</summary>
    public string Location { get; }

    /// <summary>The emulator's development account.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The development account's key: public, documented by Microsoft for the emulators, and useless outside them.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The development account's path-style endpoint, <c>http://127.0.0.1:&lt;port&gt;/devstoreaccount1</c>.</summary>
    public Uri BlobEndpoint => EndpointAt("127.0.0.1", Port);

    /// <summary>The development account's well-known (public) key as the SDK's Shared Key credential.</summary>
    public StorageSharedKeyCredential Key { get; } = new(DevelopmentAccountName, DevelopmentAccountKey);

    /// <summary>A connection string for <see cref="AzureBlobStore.FromConnectionString"/> and <c>sora train --checkpoint-connection-string</c>.</summary>
    public string ConnectionString => ConnectionStringFor(BlobEndpoint);

    /// <summary>The npm <c>azurite-blob</c> that scripts/bootstrap.sh installs into tools/node, for running Azurite elsewhere (a namespace host).</summary>
    /// <exception cref="InvalidOperationException">Azurite is not installed.</exception>
    public static string Executable
    {
        get
        {
            var executable = SourceCheckout.PathOf("tools", "node", "node_modules", ".bin", "azurite-blob");
            return File.Exists(executable) ? executable
                : throw new InvalidOperationException($"Azurite is not installed ({executable} is missing): run scripts/bootstrap.sh, which installs the npm peers into tools/node");
        }
    }

    /// <summary>
    /// The blob service's arguments: listen on <paramref name="host"/>:<paramref name="port"/>, keep blobs in <paramref name="location"/>
    /// (null: in memory, gone when the process ends), send no telemetry.
    /// </summary>
    public static IEnumerable<string> ArgumentsFor(string host, int port, string? location) =>
    [
        "--blobHost", host, "--blobPort", port.ToString(CultureInfo.InvariantCulture),
        .. location is null ? ["--inMemoryPersistence"] : (string[])["--location", location],
        "--disableTelemetry",
    ];

    /// <summary>The development account's path-style endpoint of an Azurite listening on <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static Uri EndpointAt(string host, int port) => new($"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/{DevelopmentAccountName}");

    /// <summary>The connection string of the development account at <paramref name="blobEndpoint"/> (see <see cref="EndpointAt"/>).</summary>
    public static string ConnectionStringFor(Uri blobEndpoint) =>
        $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};AccountKey={DevelopmentAccountKey};BlobEndpoint={blobEndpoint};";

    /// <summary>What Azurite printed so far (the first 64 KiB).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts Azurite and waits until it accepts connections. With no <paramref name="location"/> it uses a new
    /// temporary folder, deleted on dispose; a given folder is created if missing and left in place.
    /// </summary>
    /// <exception cref="InvalidOperationException">Azurite is not installed (run scripts/bootstrap.sh) or exited before listening.</exception>
    public static Task<AzuriteProcess> StartAsync(string? location = null, CancellationToken cancellationToken = default) =>
        StartAsync(location, [], cancellationToken);

    /// <summary>
    /// Starts Azurite as <see cref="StartAsync(string?, CancellationToken)"/> does, with further command-line
    /// <paramref name="options"/> after the host, port and location this class sets (such as the flags a
    /// deployment passes: <c>--disableProductStyleUrl</c>, <c>--skipApiVersionCheck</c>); restarts keep them.
    /// </summary>
    public static async Task<AzuriteProcess> StartAsync(string? location, IReadOnlyList<string> options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var executable = Executable;
        var owns = location is null;
        location ??= Directory.CreateTempSubdirectory("sora-azurite-").FullName;
        Directory.CreateDirectory(location);
        var azurite = new AzuriteProcess(executable, FreePort(), location, owns, [.. options]);
        try
        {
            await azurite.RestartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return azurite;
    }

    /// <summary>Kills the server (SIGKILL), as a crash or a lost machine would; Azurite may lose its last seconds of metadata.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Stops the server as an operator would (SIGTERM): Azurite saves its metadata and exits; open connections
    /// break. Falls back to SIGKILL after 20 s. A test that restarts and reads old data stops it this way.
    /// </summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                signal.WaitForExit();
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server (again, after killing a running one) on the same port and location, and waits until it accepts connections.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        Kill();
        var start = new ProcessStartInfo(_executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in ArgumentsFor("127.0.0.1", Port, Location).Append("--silent").Concat(_options))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {_executable}");
        process.OutputDataReceived += (_, e) => Capture(e.Data);
        process.ErrorDataReceived += (_, e) => Capture(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening on 127.0.0.1:{Port}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                Kill();
                throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{Port} within {StartTimeout.TotalSeconds:F0} s: {Output}", e);
            }
        }
    }

    /// <summary>Kills the server and deletes the temporary location it was started with (a given location is kept).</summary>
    public void Dispose()
    {
        Kill();
        if (!_ownsLocation)
        {
            return;
        }

        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (IOException)
        {
            // Azurite may still be closing its files; the temporary folder is left for the OS to clean.
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 << 10)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
