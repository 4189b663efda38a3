using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>
/// A real Azurite blob server (installed into tools/node by scripts/bootstrap.sh) on a free port with a
/// disk-backed location, started and killed by tests. Missing Azurite fails the test; it is never skipped.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private readonly string _executable;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AzuriteProcess(string executable, int port, string location)
    {
        _executable = executable;
        Port = port;
        Location = location;
    }

    public int Port { get; }

    public string Location { get; }

    public Uri BlobEndpoint => new($"http://127.0.0.1:{Port}/{StorageConnectionString.DevelopmentAccountName}");

    public SharedKeyCredential Key { get; } = new(StorageConnectionString.DevelopmentAccountName, StorageConnectionString.DevelopmentAccountKey);

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={StorageConnectionString.DevelopmentAccountName};AccountKey={StorageConnectionString.DevelopmentAccountKey};BlobEndpoint={BlobEndpoint};";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = new AzuriteProcess(FindExecutable(), FreePort(), Directory.CreateTempSubdirectory("sora-azurite-").FullName);
        await azurite.RestartAsync();
        return azurite;
    }

    /// <summary>Kills the server (SIGKILL), as a crash or a lost machine would.</summary>
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
    /// break. Falls back to SIGKILL after 20 s. (A SIGKILL can lose Azurite's last seconds of metadata, which it
    /// saves periodically, so a test that restarts and reads old data stops it this way.)
    /// </summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
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

    /// <summary>Starts the server (again) on the same port and location, and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        Kill();
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--location", Location, "--disableTelemetry", "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {_executable}");
        process.OutputDataReceived += (_, e) => Capture(e.Data);
        process.ErrorDataReceived += (_, e) => Capture(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"azurite exited with code {process.ExitCode} before listening on port {Port}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

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

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (IOException)
        {
            // Azurite may still be closing its files; the temp directory is left for the OS to clean.
        }

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

    private static string FindExecutable()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sora.Distributed.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"cannot find the repository root (Sora.Distributed.sln) above {AppContext.BaseDirectory}");
        }

        var executable = Path.Combine(directory.FullName, "tools", "node", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed ({executable} is missing): run scripts/bootstrap.sh, which installs the npm test peers into tools/node");
        }

        return executable;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One Azurite shared by the tests of a class.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
